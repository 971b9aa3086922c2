from django.contrib.sitemaps.views import sitemap
from django.urls import path, re_path

from . import exports, feeds, popolo, views
from .sitemaps import SITEMAPS

app_name = "positions"

urlpatterns = [
    path("", views.home, name="home"),
    path("topics/<slug:slug>/", views.topic_detail, name="topic"),
    path("topics/<slug:topic_slug>/<slug:slug>/", views.question_board, name="question"),
    path("actors/", views.actor_list, name="actor_list"),
    path("actors/<slug:slug>/", views.actor_detail, name="actor"),
    path("statements/", views.statement_list, name="statement_list"),
    path("statements/<int:pk>/", views.statement_detail, name="statement"),
    path("sources/<int:pk>/", views.source_detail, name="source"),
    path("conditions/<slug:slug>/", views.condition_detail, name="condition"),
    path("methodology/", views.methodology, name="methodology"),
    path("corrections/", views.corrections, name="corrections"),
    path("sitemap.xml", sitemap, {"sitemaps": SITEMAPS}, name="sitemap"),
    # Downloads, Popolo and Atom feeds (exports.py, popolo.py, feeds.py).
    path("data/all.json", exports.data_all, name="data_all"),
    path("data/popolo.json", popolo.popolo_actors, name="popolo"),
    re_path(
        r"^data/(?P<kind>[a-z]+)\.(?P<fmt>csv|json)$", exports.data_download, name="data_download"
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
    path("feeds/statements/", feeds.LatestStatementsFeed(), name="feed_statements"),
    path(
        "feeds/topics/<slug:topic_slug>/<slug:slug>/",
        feeds.QuestionStatementsFeed(),
        name="feed_question",
    ),
    path("feeds/actors/<slug:slug>/", feeds.ActorStatementsFeed(), name="feed_actor"),
]
