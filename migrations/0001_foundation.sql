-- The foundation owns no business table. Every domain's migration depends on this one, so the chain
-- has a fixed root: 0001 foundation -> 0002 auth -> 0003 billing -> 0004 videos.
DO $$ BEGIN END $$;   -- a statement yoyo can run that returns no rows (a SELECT would print its result)
