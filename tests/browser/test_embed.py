"""
In a real Chromium: a page on another origin (a second port on 127.0.0.1) frames the embed
of a board, and the same page framing an ordinary page of the site is refused. The API's
docs (Swagger UI from vendored files) run under the site's CSP.
"""

import http.server
import threading

import pytest

pytestmark = pytest.mark.django_db(transaction=True)

BOARD = "/topics/un-convention-against-cybercrime/ratification-by-the-united-states/"
EMBED = "/embed/un-convention-against-cybercrime/ratification-by-the-united-states/"


@pytest.fixture
def other_origin():
    """A tiny web server on another port, serving the article that frames the tracker."""
    pages = {}

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self):  # noqa: N802 - the standard library's name
            body = pages.get(self.path, "").encode()
            self.send_response(200 if body else 404)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield pages, f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def article(src):
    return (
        "<!doctype html><html><head><title>An article</title></head><body><h1>News</h1>"
        f'<iframe id="frame" src="{src}" width="600" height="170"></iframe></body></html>'
    )


def test_another_site_frames_the_embed_but_not_an_ordinary_page(
    plain_http_server_settings, live_server, demo, page, other_origin, artifacts_dir
):
    pages, origin = other_origin
    site = live_server.url  # http://localhost:<port>: another origin than the article's
    assert site.split(":")[-1] != origin.split(":")[-1]
    assert page.goto(site + BOARD).status == 200  # the board exists under that address
    pages["/embed.html"] = article(site + EMBED)
    pages["/board.html"] = article(site + BOARD)

    page.goto(origin + "/embed.html")
    frame = page.frame_locator("#frame")
    frame.get_by_text("Supports on conditions").wait_for()
    assert "Ratification" in frame.locator("h1").inner_text()
    page.screenshot(path=str(artifacts_dir / "embed.png"))

    refused = []
    page.on("console", lambda message: refused.append(message.text))
    page.goto(origin + "/board.html")
    page.wait_for_load_state("load")
    framed = next(f for f in page.frames if f != page.main_frame)
    # The main page's "load" can come before the frame's refused navigation has committed
    # (its address still empty): wait for the refusal and the error page, five seconds at most.
    for _ in range(100):
        if framed.url and any("frame" in text.lower() for text in refused):
            break
        page.wait_for_timeout(50)
    assert any("frame" in text.lower() for text in refused), refused
    assert framed.url.startswith("chrome-error://") or framed.locator("h1").count() == 0


def test_another_site_frames_the_map_embed_and_its_links_leave_the_frame(
    plain_http_server_settings, live_server, demo, page, other_origin, artifacts_dir
):
    pages, origin = other_origin
    pages["/map.html"] = article(live_server.url + EMBED + "map/").replace(
        'height="170"', 'height="640"'
    )
    page.set_viewport_size({"width": 800, "height": 900})
    page.goto(origin + "/map.html")
    frame = page.frame_locator("#frame")
    frame.locator("svg.world-map__svg").wait_for()
    assert frame.locator("path.map__c").count() > 150
    assert frame.locator("h1 a").get_attribute("href").startswith("http")  # the public address
    assert frame.locator("base").get_attribute("target") == "_blank"
    page.screenshot(path=str(artifacts_dir / "embed-map.png"))


def test_the_api_docs_run_under_the_sites_csp(site, page):
    page.goto(site + "/api/v1/docs")
    page.get_by_text("Position Tracker API").first.wait_for()
    page.locator(".opblock").first.wait_for()
    assert page.locator(".opblock").count() >= 13
