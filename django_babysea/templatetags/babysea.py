"""``{% load babysea %}``: generations and their outputs as page media.

Markup is built from the database only (see :mod:`django_babysea.services.media`): a tag never
opens, stats or lists the storage and never calls BabySea. Anything that is not stored yet (or
any more) renders a local placeholder at the expected aspect ratio.
"""

from __future__ import annotations

import re
from importlib import import_module
from importlib.util import find_spec
from typing import Any, Final
from urllib.parse import quote

from django import template
from django.http import HttpRequest
from django.template import Context, Engine, TemplateSyntaxError
from django.templatetags.static import static
from django.urls import reverse
from django.utils.html import format_html
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext as _

from django_babysea.models import Generation, GenerationOutput
from django_babysea.services.media import MediaView, Missing, media_for, output_url, parse_ratio
from django_babysea.services.status import LiveRequest, is_live, sign_live_token

register = template.Library()

Attrs = list[tuple[str, Any]]

_ATTRIBUTE: Final = re.compile(r"^[a-z][a-z0-9-]*$", re.IGNORECASE)
_COMMON: Final = frozenset({"ratio", "width"})
_OPTIONS: Final = {
    "image": _COMMON | {"alt", "sizes", "loading", "decoding"},
    "video": _COMMON | {"preload", "controls", "autoplay", "loop", "muted", "playsinline"},
}
_PREFIXES: Final = {"image": ("img_", "picture_"), "video": ("video_",)}
# Attributes of the element that the placeholder stands in for which make sense on it too.
_KEPT_ON_PLACEHOLDER: Final = ("id", "style", "title")
_DEFAULT_RATIO: Final = {"image": (1.0, 1.0), "video": (16.0, 9.0)}


def _labels(kind: str) -> dict[Missing, str]:
    if kind == "video":
        return {
            Missing.GENERATING: _("Video being generated"),
            Missing.STORING: _("Video being saved"),
            Missing.FAILED: _("Video generation failed"),
            Missing.CANCELED: _("Video generation canceled"),
            Missing.EXPIRED: _("Video no longer available"),
            Missing.UNAVAILABLE: _("Video not available"),
        }
    return {
        Missing.GENERATING: _("Image being generated"),
        Missing.STORING: _("Image being saved"),
        Missing.FAILED: _("Image generation failed"),
        Missing.CANCELED: _("Image generation canceled"),
        Missing.EXPIRED: _("Image no longer available"),
        Missing.UNAVAILABLE: _("Image not available"),
    }


# -- tags ---------------------------------------------------------------------------------------


@register.simple_tag(takes_context=True)
def babysea_image(context: Context, source: Any, index: int = 0, **options: Any) -> SafeString:
    """``<img>`` of an image output (``<picture>`` once renditions exist), or a placeholder."""
    return _render(context, "image", source, index, options)


@register.simple_tag(takes_context=True)
def babysea_video(context: Context, source: Any, index: int = 0, **options: Any) -> SafeString:
    """``<video>`` of a video output, or a placeholder."""
    return _render(context, "video", source, index, options)


@register.simple_tag(takes_context=True)
def babysea_media(context: Context, source: Any, index: int = 0, **options: Any) -> SafeString:
    """``babysea_image`` or ``babysea_video``, whichever the generation's kind asks for; the
    options of the other kind (``img_class`` on a video) are ignored, so one call fits a
    mixed list."""
    generation = _generation(source)
    if generation is None:
        return SafeString("")
    kind = generation.kind
    other = "video" if kind == "image" else "image"
    foreign = _OPTIONS[other] - _OPTIONS[kind]
    mine = {
        key: value
        for key, value in options.items()
        if key not in foreign and not key.startswith(_PREFIXES[other])
    }
    return _render(context, kind, source, index, mine)


@register.filter
def babysea_url(source: Any, index: Any = 0) -> str:
    """The URL of the stored copy of output ``index``; empty until it is stored."""
    if _generation(source) is None:
        return ""
    return output_url(source, _index(index)) or ""


@register.simple_tag(takes_context=True)
def babysea_absolute_url(context: Context, source: Any, index: Any = 0) -> str:
    """:func:`babysea_url` made absolute with the request in the context (e-mail, Open Graph).

    Without a request the storage's URL is returned as it is (absolute when ``MEDIA_URL`` or
    the storage's ``base_url`` is).
    """
    url = babysea_url(source, index)
    request = context.get("request")
    if not url or request is None:
        return url
    return str(request.build_absolute_uri(url))


# -- rendering ----------------------------------------------------------------------------------


def _render(
    context: Context, kind: str, source: Any, index: Any, options: dict[str, Any]
) -> SafeString:
    tag = f"babysea_{kind}"
    generation = _generation(source)
    if generation is None:
        return SafeString("")
    if generation.kind != kind:
        raise TemplateSyntaxError(
            f"{tag} got a {generation.kind} generation; use babysea_media for either kind."
        )
    options, live = _live_option(options)
    known, extra = _split(tag, kind, options)
    view = media_for(source, _index(index))
    width, height = _size(view, known)
    if view.url is None:
        attrs = _placeholder(view, known, extra, width, height)
        attrs += _live_attrs(context, live, view, source, (kind, _index(index), options))
        return _template(context, "placeholder", {"svg_attrs": attrs})
    if kind == "video":
        return _template(
            context, "video", {"video_attrs": _video(view, known, extra, width, height)}
        )
    sizes = _sizes(view, known, width)
    data: dict[str, Any] = {
        "img_attrs": _image(view, {**known, "sizes": sizes}, extra, width, height),
        "picture_attrs": extra.get("picture_", []),
        "sources": view.sources,
        "sizes": sizes,
    }
    return _template(context, "image", data)


def _template(context: Context, name: str, data: dict[str, Any]) -> SafeString:
    engine = context.template.engine if context.template is not None else Engine.get_default()
    loaded = engine.get_template(f"django_babysea/tags/{name}.html")
    with context.push(data):
        html = loaded.render(context)
    return mark_safe(html.strip())  # noqa: S308 - rendered by an autoescaping template


def _image(
    view: MediaView, known: dict[str, Any], extra: dict[str, Attrs], w: Any, h: Any
) -> Attrs:
    alt = known.get("alt", view.prompt)
    attrs: Attrs = [
        ("src", view.url),
        ("width", w),
        ("height", h),
        ("alt", "" if alt is None else alt),
        ("srcset", view.srcset),
        ("sizes", known.get("sizes")),
        ("loading", known.get("loading", "lazy")),
        ("decoding", known.get("decoding", "async")),
    ]
    return _merge(attrs, extra.get("img_", []))


def _video(
    view: MediaView, known: dict[str, Any], extra: dict[str, Attrs], w: Any, h: Any
) -> Attrs:
    autoplay = bool(known.get("autoplay"))
    attrs: Attrs = [
        ("src", view.url),
        ("width", w),
        ("height", h),
        ("poster", view.poster),
        ("preload", known.get("preload", "metadata")),
        ("playsinline", known.get("playsinline", True)),
        ("controls", known.get("controls", True)),
        ("autoplay", autoplay),
        ("loop", known.get("loop", False)),
        # Browsers only start a video by themselves when it is muted.
        ("muted", known.get("muted", autoplay)),
    ]
    return _merge(attrs, extra.get("video_", []))


def _sizes(view: MediaView, known: dict[str, Any], width: Any) -> str | None:
    """The ``sizes`` option, or for an image with renditions a default that matches the
    ``width`` attribute: that many CSS pixels, or the viewport's width when it is narrower
    (the usual ``max-width: 100%`` layout). Without one a browser assumes ``100vw`` and
    fetches a needlessly large file for a small image."""
    given = known.get("sizes")
    if given is not None or not (view.srcset or view.sources):
        return given
    if not width:
        return "100vw"
    return f"(max-width: {width}px) 100vw, {width}px"


def _placeholder(
    view: MediaView, known: dict[str, Any], extra: dict[str, Attrs], w: Any, h: Any
) -> Attrs:
    missing = view.missing or Missing.UNAVAILABLE
    if w is not None and h is not None:
        box = (float(w), float(h))
    else:
        box = _ratio(view, known) or _DEFAULT_RATIO[view.kind]
    own = extra.get("img_" if view.kind == "image" else "video_", [])
    classes = f"babysea-placeholder babysea-placeholder--{missing.value}"
    user_class = next((value for name, value in own if name == "class" and value), None)
    attrs: Attrs = [
        ("class", f"{classes} {user_class}" if user_class else classes),
        ("role", "img"),
        ("aria-label", _labels(view.kind)[missing]),
        ("viewBox", f"0 0 {box[0]:g} {box[1]:g}"),
        ("width", w),
        ("height", h),
    ]
    kept = [(n, v) for n, v in own if n in _KEPT_ON_PLACEHOLDER or n.startswith("data-")]
    return _merge(attrs, kept)


# -- options ------------------------------------------------------------------------------------


def _generation(source: Any) -> Generation | None:
    if isinstance(source, Generation):
        return source
    if isinstance(source, GenerationOutput):
        return source.generation
    if source is None or source == "":
        return None
    raise TemplateSyntaxError(
        f"Expected a Generation or a GenerationOutput, got {type(source).__name__}."
    )


def _index(value: Any) -> int:
    try:
        index = int(value)
    except (TypeError, ValueError):
        raise TemplateSyntaxError(f"An output index must be a number, not {value!r}.") from None
    if index < 0:
        raise TemplateSyntaxError(f"An output index cannot be negative ({index}).")
    return index


def _split(tag: str, kind: str, options: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Attrs]]:
    """The tag's own options, and extra attributes by prefix (``img_class`` -> ``class``;
    underscores become hyphens, so ``img_data_id`` is ``data-id``)."""
    known: dict[str, Any] = {}
    extra: dict[str, Attrs] = {}
    for key, value in options.items():
        if key in _OPTIONS[kind]:
            known[key] = value
            continue
        prefix = next((p for p in _PREFIXES[kind] if key.startswith(p)), None)
        name = key[len(prefix) :].replace("_", "-") if prefix else ""
        if prefix is None or not _ATTRIBUTE.match(name):
            prefixes = " or ".join(_PREFIXES[kind])
            raise TemplateSyntaxError(
                f"{tag} has no option {key!r}; extra attributes take the prefix {prefixes}."
            )
        extra.setdefault(prefix, []).append((name, value))
    known["ratio"] = _given_ratio(known.get("ratio"))
    return known, extra


def _ratio(view: MediaView, known: dict[str, Any]) -> tuple[float, float] | None:
    """The ratio the generation asked for, else the ``ratio`` option (a fallback)."""
    given: tuple[float, float] | None = known.get("ratio")
    return view.requested_ratio or given


def _given_ratio(given: Any) -> tuple[float, float] | None:
    if given in (None, ""):
        return None
    ratio = parse_ratio(str(given))
    if ratio is None:
        raise TemplateSyntaxError(f"ratio must look like '16:9', not {given!r}.")
    return ratio


def _size(view: MediaView, known: dict[str, Any]) -> tuple[int | None, int | None]:
    """``width``/``height`` attributes: the stored size, scaled to the ``width`` option."""
    wanted = known.get("width")
    if wanted not in (None, ""):
        try:
            wanted = int(wanted)
        except (TypeError, ValueError):
            raise TemplateSyntaxError(
                f"width must be a number of pixels, not {wanted!r}."
            ) from None
        if wanted <= 0:
            raise TemplateSyntaxError(f"width must be positive, not {wanted}.")
    else:
        wanted = None
    if view.width and view.height:
        ratio: tuple[float, float] | None = (float(view.width), float(view.height))
        if wanted is None:
            return view.width, view.height
    else:
        ratio = _ratio(view, known)
    if wanted is None or ratio is None:
        return wanted, None
    return wanted, max(1, round(wanted * ratio[1] / ratio[0]))


def _merge(attrs: Attrs, extra: Attrs) -> Attrs:
    """``attrs`` with ``extra`` replacing same-named ones or appended; None and False drop an
    attribute, True renders it bare."""
    merged = dict(attrs)
    merged.update(extra)
    return [
        (name, value) for name, value in merged.items() if value is not None and value is not False
    ]


# -- live status (see docs/live-status.md) ------------------------------------------------------

_LIVE_VALUES: Final = (None, True, False, "htmx")
#: How often htmx asks, in htmx's own syntax (live.js backs off by itself).
_HTMX_TRIGGER: Final = "every 2s"


@register.simple_tag(takes_context=True)
def babysea_live_script(context: Context) -> SafeString:
    """``<script defer>`` of ``live.js``, which replaces live placeholders by their media once
    stored. With the page's CSP nonce (Django 6's ``csp_nonce``, or django-csp's
    ``request.csp_nonce``) when there is one. Include it once per page."""
    nonce = _csp_nonce(context)
    return format_html(
        '<script src="{}" defer{} data-babysea-status-url="{}"></script>',
        static("django_babysea/live.js"),
        format_html(' nonce="{}"', nonce) if nonce else "",
        reverse("django_babysea:status"),
    )


def render_live(request: HttpRequest | None, live: LiveRequest, generation: Generation) -> str:
    """What the tag call behind a live token renders now, with the options it was given."""
    context = Context({"request": request})
    return str(_render(context, live.kind, generation, live.index, dict(live.options)))


def _live_option(options: dict[str, Any]) -> tuple[dict[str, Any], Any]:
    """``options`` without ``live``, and its value: None (on when the page has a request),
    True, False, or ``"htmx"`` (htmx attributes too)."""
    rest = dict(options)
    live = rest.pop("live", None)
    if live not in _LIVE_VALUES:
        raise TemplateSyntaxError(f"live must be True, False or 'htmx', not {live!r}.")
    return rest, live


def _live_attrs(
    context: Context, live: Any, view: MediaView, source: Any, call: tuple[str, int, dict[str, Any]]
) -> Attrs:
    """The attributes that let a page replace the placeholder once the media is stored.

    On by default for pages rendered with a request (a browser will show them); e-mail and
    other renderings without one get a plain placeholder.
    """
    wanted = live if live is not None else context.get("request") is not None
    if not wanted or not is_live(view):
        return []
    kind, index, options = call
    generation = source.generation if isinstance(source, GenerationOutput) else source
    if isinstance(source, GenerationOutput):
        index = source.index
    token = sign_live_token(generation, kind, index, options)
    attrs: Attrs = [("data-babysea-live", token)]
    if live == "htmx":
        url = f"{reverse('django_babysea:status')}?format=html&t={quote(token)}"
        attrs += [("hx-get", url), ("hx-trigger", _HTMX_TRIGGER), ("hx-swap", "outerHTML")]
    return attrs


def _csp_nonce(context: Context) -> str | None:
    nonce = context.get("csp_nonce")  # Django 6's csp() context processor
    request = context.get("request")
    if nonce is None and request is not None:
        nonce = getattr(request, "csp_nonce", None)  # django-csp
        if nonce is None and find_spec("django.middleware.csp") is not None:  # Django 6+
            nonce = import_module("django.middleware.csp").get_nonce(request)
    # Django's LazyNonce is falsy until read: read it, so that the middleware sends it.
    text = str(nonce) if nonce is not None else ""
    return text or None
