from django.contrib.sitemaps import views as sitemap_views
from django.urls import path, re_path

from . import (
    cards,
    embeds,
    exports,
    feeds,
    popolo,
    views,
    views_board,
    views_institutions,
    views_status,
)
from .caching import cached_page
from .redirects import follows_merged_actors
from .sitemaps import SITEMAPS

app_name = "positions"

urlpatterns = [
    path("", views.home, name="home"),
    path("topics/<slug:slug>/", views.topic_detail, name="topic"),
    # Before the question boards: a question slugged "status" would be hidden by it.
    path("topics/<slug:slug>/status/", views_status.topic_status, name="topic_status"),
    re_path(
        r"^topics/(?P<slug>[-\w]+)/status\.(?P<fmt>csv|json)$",
        views_status.topic_status_download,
        name="topic_status_download",
    ),
    path("topics/<slug:topic_slug>/<slug:slug>/", views_board.question_board, name="question"),
    path("actors/", views.actor_list, name="actor_list"),
    # An actor's addresses answer 301 to the actor it was merged into (redirects.py).
    path("actors/<slug:slug>/", follows_merged_actors(views.actor_detail), name="actor"),
    path(
        "actors/<slug:slug>/members/",
        views_institutions.organization_members,
        name="actor_members",
    ),
    path("compare/", views_institutions.compare, name="compare"),
    path("statements/", views.statement_list, name="statement_list"),
    path("statements/<int:pk>/", views.statement_detail, name="statement"),
    path("sources/", views.source_list, name="source_list"),
    path("sources/<int:pk>/", views.source_detail, name="source"),
    path("conditions/", views.condition_list, name="condition_list"),
    path("conditions/<slug:slug>/", views.condition_detail, name="condition"),
    path("methodology/", views.methodology, name="methodology"),
    # Share-card images (cards.py).
    path(
        "cards/topics/<slug:topic_slug>/<slug:slug>.png", cards.question_card, name="card_question"
    ),
    path(
        "cards/actors/<slug:slug>.png", follows_merged_actors(cards.actor_card), name="card_actor"
    ),
    path("cards/statements/<int:pk>.png", cards.statement_card, name="card_statement"),
    # Pages other sites may frame (embeds.py).
    path("embed/<slug:topic_slug>/<slug:slug>/", embeds.question_tally, name="embed_question"),
    path(
        "embed/<slug:topic_slug>/<slug:slug>/whip-count/",
        embeds.question_whip_count,
        name="embed_whip_count",
    ),
    path("embed/<slug:topic_slug>/<slug:slug>/map/", embeds.question_map, name="embed_map"),
    path("corrections/", views.corrections, name="corrections"),
    path(
        "sitemap.xml",
        cached_page(sitemap_views.index),
        {"sitemaps": SITEMAPS, "sitemap_url_name": "positions:sitemap_section"},
        name="sitemap",
    ),
    path(
        "sitemap-<section>.xml",
        cached_page(sitemap_views.sitemap),
        # Django's view, with its template's loop over the addresses written in Python.
        {"sitemaps": SITEMAPS, "template_name": "positions/sitemap.xml"},
        name="sitemap_section",
    ),
    # Downloads, Popolo and Atom feeds (exports.py, popolo.py, feeds.py).
    # The whole data set: files written by the background job (bulkdata.py), each gzipped too.
    path("data/all.json", exports.data_all, name="data_all"),
    path("data/all.json.gz", exports.data_all, {"packed": True}, name="data_all_gz"),
    path("data/popolo.json", popolo.popolo_download, name="popolo"),
    path("data/popolo.json.gz", popolo.popolo_download, {"packed": True}, name="popolo_gz"),
    re_path(
        r"^data/(?P<kind>[a-z]+)\.(?P<fmt>csv|json)$", exports.data_download, name="data_download"
    ),
    re_path(
        r"^data/(?P<kind>[a-z]+)\.(?P<fmt>csv|json)\.gz$",
        exports.data_download,
        {"packed": True},
        name="data_download_gz",
    ),
    re_path(
        r"^topics/(?P<topic_slug>[-\w]+)/(?P<slug>[-\w]+)/statements\.(?P<fmt>csv|json)$",
        exports.question_statements_download,
        name="question_statements_download",
    ),
    re_path(
        r"^topics/(?P<topic_slug>[-\w]+)/(?P<slug>[-\w]+)/board\.(?P<fmt>csv|json)$",
        exports.question_board_download,
        name="question_board_download",
    ),
    path("feeds/statements/", cached_page(feeds.LatestStatementsFeed()), name="feed_statements"),
    path(
        "feeds/topics/<slug:topic_slug>/<slug:slug>/",
        cached_page(feeds.QuestionStatementsFeed()),
        name="feed_question",
    ),
    path("feeds/corrections/", cached_page(feeds.CorrectionsFeed()), name="feed_corrections"),
    path(
        "feeds/actors/<slug:slug>/",
        follows_merged_actors(cached_page(feeds.ActorStatementsFeed())),
        name="feed_actor",
    ),
]
