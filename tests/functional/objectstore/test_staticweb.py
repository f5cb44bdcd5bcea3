"""Static websites: a container set up with `swift post -r '.r:*' -m 'web-index:...'`, then
fetched with plain HTTP and no token: index pages, redirects to the trailing slash, HTML
listings, error pages, directory markers, and X-Web-Mode for callers with a token."""

from __future__ import annotations

import httpx
import pytest

from conftest import random_name
from swiftcli import swift, token


@pytest.fixture(scope="module")
def store(admin):
    return admin.object_store.get_endpoint()


@pytest.fixture
def site(cloud, admin, store):
    """A public container holding a small site; removed with everything in it after."""
    name = random_name("web")
    swift(cloud, "post", "-r", ".r:*", "-m", "web-index:index.html", name)
    url = f"{store}/{name}"
    for path, body, kind in (("index.html", b"<h1>home</h1>", "text/html"), ("about/index.html", b"about", "text/html"),
                             ("docs/a.txt", b"a" * 2048, "text/plain"), ("docs/sub/b.txt", b"b", "text/plain"),
                             ("404error.html", b"custom not found", "text/html"),
                             ("style.css", b"h1 {}", "text/css")):
        httpx.put(f"{url}/{path}", content=body, headers={**token(admin), "Content-Type": kind}).raise_for_status()
    yield name, url
    for item in httpx.get(f"{url}?format=json", headers=token(admin)).json():
        httpx.delete(f"{url}/{item['name']}", headers=token(admin))
    httpx.delete(url, headers=token(admin))


def test_web_index_served_without_token(site):
    name, url = site
    assert httpx.get(url.split("/v1/")[0] + "/info").json()["staticweb"] == {}
    moved = httpx.get(url)
    assert moved.status_code == 301 and moved.headers["location"] == url + "/"
    home = httpx.get(url + "/")
    assert home.status_code == 200 and home.content == b"<h1>home</h1>"
    assert home.headers["content-type"].startswith("text/html")
    assert httpx.get(url, follow_redirects=True).content == b"<h1>home</h1>"
    # a pseudo-directory with an index: redirected to its slash, then its index
    moved = httpx.get(f"{url}/about")
    assert moved.status_code == 301 and moved.headers["location"] == f"{url}/about/"
    assert httpx.get(f"{url}/about/").content == b"about"
    assert httpx.head(f"{url}/about/").status_code == 200
    # objects are objects
    assert httpx.get(f"{url}/docs/a.txt").content == b"a" * 2048
    # without a listing, a directory without an index is not found
    assert httpx.get(f"{url}/docs/").status_code == 404
    assert httpx.get(f"{url}/nothing-here").status_code == 404


def test_web_listings_css_and_errors(cloud, admin, site):
    name, url = site
    swift(cloud, "post", "-r", ".r:*,.rlistings", "-m", "web-listings:true", "-m", "web-listings-css:style.css",
          "-m", "web-error:error.html", name)
    listing = httpx.get(f"{url}/docs/")
    assert listing.status_code == 200 and listing.headers["content-type"].startswith("text/html")
    page = listing.text
    assert f"<title>Listing of /v1/{url.split('/v1/')[1]}/docs/</title>" in page
    assert '<link rel="stylesheet" type="text/css" href="../style.css" />' in page
    assert '<a href="./a%2Etxt">a.txt</a>' in page and '<td class="colsize">2Ki</td>' in page
    assert '<tr class="item subdir">' in page and '<a href="./sub/">sub/</a>' in page
    assert '<tr id="parent" class="item">' in page and 'class="item type-text type-plain"' in page
    head = httpx.head(f"{url}/docs/")
    assert head.status_code == 200 and head.headers["content-length"] == str(len(listing.content))
    moved = httpx.get(f"{url}/docs")
    assert moved.status_code == 301 and moved.headers["location"] == f"{url}/docs/"
    # the custom error page answers with the error's status
    missing = httpx.get(f"{url}/nothing-here")
    assert missing.status_code == 404 and missing.content == b"custom not found"
    # without an index at the root, the root lists
    swift(cloud, "post", "-m", "web-index:", name)
    root = httpx.get(url + "/")
    assert root.status_code == 200 and '<a href="./docs/">docs/</a>' in root.text and "index.html" in root.text
    # without .rlistings, anonymous callers get no listing: the 401 page
    swift(cloud, "post", "-r", ".r:*", name)
    assert httpx.get(f"{url}/docs/").status_code == 401
    httpx.put(f"{url}/401error.html", content=b"no listing for you", headers=token(admin)).raise_for_status()
    denied = httpx.get(f"{url}/docs/")
    assert denied.status_code == 401 and denied.content == b"no listing for you"


def test_web_mode_for_callers_with_a_token_and_directory_markers(cloud, admin, site):
    name, url = site
    # with a token, the container is the API's: a plain listing
    plain = httpx.get(url, headers=token(admin))
    assert plain.status_code == 200 and "index.html\n" in plain.text
    web = httpx.get(url + "/", headers={**token(admin), "X-Web-Mode": "true"})
    assert web.status_code == 200 and web.content == b"<h1>home</h1>"
    # anonymous callers get the website whatever they say (Swift 2.38)
    assert httpx.get(url, headers={"X-Web-Mode": "false"}).status_code == 301
    # a directory marker object counts as a directory
    httpx.put(f"{url}/marked", content=b"", headers={**token(admin), "Content-Type": "application/directory"}
              ).raise_for_status()
    httpx.put(f"{url}/marked/index.html", content=b"marked index", headers=token(admin)).raise_for_status()
    moved = httpx.get(f"{url}/marked")
    assert moved.status_code == 301 and httpx.get(f"{url}/marked/").content == b"marked index"
    # a private container serves nothing to anonymous callers, website or not, not even its
    # error page (read as the caller reads)
    httpx.put(f"{url}/401error.html", content=b"log in first", headers=token(admin)).raise_for_status()
    swift(cloud, "post", "-r", "", "-m", "web-error:error.html", name)
    denied = httpx.get(url)
    assert denied.status_code == 401 and denied.content != b"log in first"
    # a container without web settings and X-Web-Mode: 404
    swift(cloud, "post", "-m", "web-index:", name)
    assert httpx.get(url, headers={**token(admin), "X-Web-Mode": "true"}).status_code == 404
