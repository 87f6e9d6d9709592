"""The podcast feed: RSS 2.0 with the iTunes tags (feedgen's podcast extension) and the
Podcasting 2.0 chapters and transcript tags (a small feedgen extension of our own).

Each text is written for the feed (`xml_text`): lxml escapes what XML must (&, <, >, and so `]]>`);
the characters XML 1.0 cannot hold at all (control characters, lone surrogates), which lxml refuses
rather than escapes, are left out; a title (any text but a description) is one line; and a
description, which podcast apps read as HTML, is escaped as HTML too, so that its text shows as
written and none of it is taken for markup."""

from __future__ import annotations

import html
import re
from dataclasses import dataclass, fields, replace
from datetime import UTC, datetime, timedelta
from typing import Any, TypeVar

from feedgen.ext.base import BaseEntryExtension, BaseExtension
from feedgen.feed import FeedGenerator
from lxml import etree

from cuecoach.builder.export import one_line

PODCAST_NS = "https://podcastindex.org/namespace/1.0"
CHAPTERS_TYPE = "application/json+chapters"
TRANSCRIPT_TYPE = "text/vtt"
# outside XML 1.0's characters, and the C1 controls it allows but an HTML reader takes for Windows-1252
NOT_TEXT = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ud800-\udfff\ufffe\uffff]")
LINE_END = re.compile("\r\n?")  # a description's line breaks as XML reads them back
Record = TypeVar("Record", "Show", "Episode")


class PodcastIndex(BaseExtension):
    """Declares the `podcast:` namespace on the channel."""

    def extend_ns(self) -> dict[str, str]:
        return {"podcast": PODCAST_NS}


class PodcastIndexEntry(BaseEntryExtension):
    """`<podcast:chapters>` and `<podcast:transcript>` for one episode."""

    def __init__(self) -> None:
        self._chapters: str | None = None
        self._transcript: tuple[str, str] | None = None

    def extend_ns(self) -> dict[str, str]:
        return {"podcast": PODCAST_NS}

    def chapters(self, url: str) -> None:
        self._chapters = url

    def transcript(self, url: str, language: str) -> None:
        self._transcript = (url, language)

    def extend_rss(self, entry):
        if self._chapters:
            etree.SubElement(entry, f"{{{PODCAST_NS}}}chapters", url=self._chapters, type=CHAPTERS_TYPE)
        if self._transcript:
            url, language = self._transcript
            etree.SubElement(entry, f"{{{PODCAST_NS}}}transcript", url=url, type=TRANSCRIPT_TYPE, language=language,
                     rel="captions")
        return entry


@dataclass(frozen=True)
class Show:
    title: str
    author: str
    description: str
    link: str  # the web page
    feed_url: str
    cover_url: str
    year: int | None
    updated: datetime  # the newest track's time, so that an unchanged series writes an unchanged feed
    language: str = "en"


@dataclass(frozen=True)
class Episode:
    guid: str
    title: str
    season: int
    number: int
    description: str
    audio_url: str
    audio_bytes: int
    duration_ms: int
    chapters_url: str
    transcript_url: str
    link: str


def xml_text(record: Record) -> Record:
    """The record with each of its texts as the feed holds it (see above)."""
    values = {f.name: getattr(record, f.name) for f in fields(record)}
    texts: dict[str, Any] = {name: NOT_TEXT.sub("", LINE_END.sub("\n", value)) if name == "description"
                             else one_line(value) for name, value in values.items() if isinstance(value, str)}
    return replace(record, **texts)


def duration_text(ms: int) -> str:
    seconds = round(ms / 1000)
    return f"{seconds // 3600:d}:{seconds // 60 % 60:02d}:{seconds % 60:02d}"


def feed_xml(show: Show, episodes: list[Episode]) -> bytes:
    """The whole feed, episodes in series order. Publication dates are made from the order
    (an hour apart, from the start of the series' year), so they stay the same on every rebuild
    and a player that sorts by date still plays day 1 first."""
    show, episodes = xml_text(show), [xml_text(episode) for episode in episodes]
    fg = FeedGenerator()
    fg.load_extension("podcast")
    fg.register_extension("podcastindex", PodcastIndex, PodcastIndexEntry)
    fg.title(show.title)
    fg.description(html.escape(show.description, quote=False))
    fg.link(href=show.feed_url, rel="self")
    fg.link(href=show.link, rel="alternate")  # after "self": RSS's <link> is the last one given
    fg.language(show.language)
    fg.author({"name": show.author})
    fg.image(url=show.cover_url, title=show.title, link=show.link)
    fg.generator("cuecoach")
    fg.lastBuildDate(show.updated)
    fg.podcast.itunes_type("serial")
    fg.podcast.itunes_author(show.author)
    fg.podcast.itunes_image(show.cover_url)
    fg.podcast.itunes_category("Health & Fitness", "Fitness")
    fg.podcast.itunes_explicit("no")
    fg.podcast.itunes_summary(show.description)
    start = datetime(show.year or 2026, 1, 1, tzinfo=UTC)
    for index, episode in enumerate(episodes):
        entry = fg.add_entry(order="append")
        entry.guid(episode.guid, permalink=False)
        entry.title(episode.title)
        entry.link(href=episode.link)
        entry.description(html.escape(episode.description, quote=False))
        entry.enclosure(episode.audio_url, str(episode.audio_bytes), "audio/mpeg")
        entry.published(start + timedelta(hours=index))
        entry.podcast.itunes_season(episode.season)
        entry.podcast.itunes_episode(episode.number)
        entry.podcast.itunes_episode_type("full")
        entry.podcast.itunes_duration(duration_text(episode.duration_ms))
        entry.podcast.itunes_image(show.cover_url)
        entry.podcast.itunes_author(show.author)
        entry.podcastindex.chapters(episode.chapters_url)
        entry.podcastindex.transcript(episode.transcript_url, show.language)
    return fg.rss_str(pretty=True)
