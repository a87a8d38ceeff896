"""The `/api/` envelope, declared once: every answer outside /api/auth is an `Envelope` (success) or an
`Error`.

`genvid.http.api.ok()` and the error mapping (genvid.http.errors) serialise through these models, and
genvid.http.openapi describes every operation's answers with the same models: `Envelope[VideoOut, None]` is
the success body of GET /api/videos/{id}, `Envelope[list[VideoOut], PageMeta]` that of a page of videos.
/api/auth keeps better-auth's own bodies and is not enveloped.

Plain pydantic, no Flask: the web layer wraps the JSON these functions return into responses.
"""
from __future__ import annotations

from typing import Any, Generic, Literal, TypeVar, cast, get_args, get_origin

from pydantic import BaseModel, Field

DataT = TypeVar("DataT")
MetaT = TypeVar("MetaT")


def _type_name(described: Any) -> str:
    if get_origin(described) is list:
        (item,) = get_args(described)
        return f"{_type_name(item)}List"
    return getattr(described, "__name__", "Any")


class PageMeta(BaseModel):
    """The meta of a page of a list."""

    next_cursor: str | None = Field(description="Pass as `cursor` for the next page; null on the last.")


class Envelope(BaseModel, Generic[DataT, MetaT]):
    """A success: the answer in `data`, `meta` with the next page's cursor where the answer is a page."""

    success: Literal[True]
    data: DataT
    error: None
    meta: MetaT

    @classmethod
    def model_parametrized_name(cls, params: tuple[Any, ...]) -> str:
        """The name the OpenAPI document gives it: VideoOutEnvelope, PackOutListEnvelope, VideoOutPage."""
        data, meta = params
        if meta is PageMeta and get_origin(data) is list:
            return f"{_type_name(get_args(data)[0])}Page"
        return f"{_type_name(data)}Envelope"


class ErrorInfo(BaseModel):
    """What went wrong."""

    code: str = Field(description="Stable and machine-readable, e.g. VIDEO_NOT_FOUND.")
    message: str = Field(description="For people.")
    details: Any = Field(description="More about it, e.g. one entry per invalid field; null when none.")


class Error(BaseModel):
    """A failure: every /api/ error outside /api/auth, routing 404s and 405s included."""

    success: Literal[False]
    data: None
    error: ErrorInfo
    meta: None


_ANY = Envelope[Any, Any]


def envelope_model(data: type[BaseModel] | None, *, many: bool = False,
                   paged: bool = False) -> type[BaseModel]:
    """The success envelope of an operation answering data (None: any JSON), a list of it when many, a page
    of it (meta.next_cursor) when paged."""
    item: Any = Any if data is None else data
    if many or paged:
        item = list[item]
    # Envelope[item, meta] with types known only here (a subscript mypy reads as a type expression)
    return cast(type[BaseModel], Envelope.__class_getitem__((item, PageMeta if paged else None)))


def success_json(data: Any, meta: Any = None) -> str:
    """The success body around data (a model, a list of them, or plain JSON values)."""
    # Not validated again: data is a response model already, or plain values a handler built.
    return _ANY.model_construct(success=True, data=data, error=None, meta=meta).model_dump_json() + "\n"


def error_json(code: str, message: str, details: Any = None) -> str:
    """The failure body."""
    error = ErrorInfo.model_construct(code=code, message=message, details=details)
    return Error.model_construct(success=False, data=None, error=error, meta=None).model_dump_json() + "\n"
