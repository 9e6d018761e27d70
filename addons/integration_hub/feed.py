"""Scheduled pull of a "changes since" feed: the page format and its reading, no ORM.

A feed answers ``GET <url>?<cursor parameter>=<cursor>&<limit parameter>=<page size>``
(no cursor parameter on the first call) with a JSON page::

    {"items": [{"id": "EMP-12", "type": "employee.upserted",
                "updated_at": "2026-11-20T07:00:00Z", "data": {...}}, ...],
     "next_cursor": "opaque string", "has_more": true}

``next_cursor`` is where the next page starts (the same cursor again when nothing is
new); ``has_more`` says whether to ask for the next page now or at the next run.
"""

import json

import requests
import urllib3

from . import delivery

MAX_PAGE_BYTES = 16 * 1024 * 1024


class FeedError(Exception):
    """The page could not be read; the feed tries again later. ``str()`` is safe to
    show: it names what went wrong, never a credential or the page's content."""


def fetch_page(url, params, headers, timeouts, *, allow_private=False, max_bytes=MAX_PAGE_BYTES):
    """The raw body of one page; FeedError for anything but a 200 answer."""
    try:
        delivery.check_url(url, allow_private)
        response = delivery.session(allow_private).get(
            url,
            params=params,
            headers=dict(headers, Accept="application/json"),
            timeout=timeouts,
            allow_redirects=False,
            stream=True,
        )
    except delivery.ForbiddenTarget as exc:
        raise FeedError(f"Refused target: {exc}") from exc
    except ValueError as exc:
        raise FeedError(str(exc)) from exc
    except requests.Timeout as exc:
        raise FeedError(f"Timeout: {type(exc).__name__}") from exc
    except requests.RequestException as exc:
        raise FeedError(f"Connection failed: {type(exc).__name__}") from exc
    try:
        if response.status_code != 200:
            raise FeedError(f"HTTP {response.status_code}")
        body = response.raw.read(max_bytes + 1, decode_content=True) or b""
    except (requests.RequestException, urllib3.exceptions.HTTPError, OSError) as exc:
        raise FeedError(f"Page unreadable: {type(exc).__name__}") from exc
    finally:
        response.close()
    if len(body) > max_bytes:
        raise FeedError(f"Page larger than {max_bytes} bytes")
    return body


def parse_page(body):
    """(items, next_cursor, has_more) of a page body; FeedError naming the first
    problem by its path."""
    try:
        page = json.loads(body)
    except (ValueError, UnicodeDecodeError) as exc:
        raise FeedError("Page is not JSON") from exc
    if not isinstance(page, dict) or not isinstance(page.get("items"), list):
        raise FeedError("items: a page is an object with a list of items")
    next_cursor = page.get("next_cursor")
    if next_cursor is not None and not isinstance(next_cursor, str | int):
        raise FeedError("next_cursor: must be a string")
    has_more = page.get("has_more", False)
    if not isinstance(has_more, bool):
        raise FeedError("has_more: must be true or false")
    return page["items"], (str(next_cursor) if next_cursor is not None else None), has_more


def item_problem(item):
    """What makes ``item`` unusable (a path and a reason), or None."""
    if not isinstance(item, dict):
        return "an item must be an object"
    for key in ("id", "type", "updated_at"):
        if not isinstance(item.get(key), str) or not item[key]:
            return f"{key}: a non-empty string is required"
    if not isinstance(item.get("data"), dict):
        return "data: an object is required"
    return None


def item_message_id(item):
    """The sender message id of an item: one message per item and version, so a page
    read twice stores nothing twice while a newer version of a record is new."""
    return f"feed:{item['id']}@{item['updated_at']}"[:255]


def item_envelope(item):
    """The canonical envelope the item stands for."""
    return {"type": item["type"], "timestamp": item["updated_at"], "data": item["data"]}
