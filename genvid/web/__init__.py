"""The web app people use, served by genvid itself: HTML pages (`pages`) and the API reference (`docs`).

Pages are a shell (Jinja templates, plain CSS, small ES modules): everything a person sees of their account
is fetched by the browser from the same public /api and /api/auth endpoints every other client uses, with
the session cookie, from the same origin. Nothing here reads the database.
"""
