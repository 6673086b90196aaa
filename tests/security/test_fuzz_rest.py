"""Fuzzing clusterd's REST API, a real clusterd and elektrad behind it: every input gets a 4xx
or a 2xx, never a 5xx, and clusterd keeps answering. A short pass by default; set
ELEKTRAWEB_FUZZ_EXAMPLES=100000 for a long one (docs/security.md)."""

from __future__ import annotations

from urllib.parse import quote

from hypothesis import event, given
from hypothesis import strategies as st

from security.conftest import FuzzSite
from support.fuzz import KEY_NAMES, fuzz_settings, json_texts

ROUTES = [("GET", "kdb"), ("PUT", "kdb"), ("DELETE", "kdb"), ("GET", "kdbLs"), ("GET", "kdbFind"),
          ("POST", "kdbMv"), ("POST", "kdbCp"), ("POST", "kdbMeta"), ("POST", "kdbMetaBulk"),
          ("PUT", "kdbAll"), ("GET", "kdbExport"), ("POST", "kdbImport"), ("PATCH", "kdb"),
          ("GET", "nope")]  # fmt: skip
CONTENT_TYPES = st.sampled_from(
    ["application/json", "application/json; charset=utf-16", "application/json; charset=bogus",
     "text/plain", "text/plain; charset=latin-1", "application/octet-stream", "",
     "multipart/form-data; boundary=x"]
)  # fmt: skip
QUERIES = st.dictionaries(
    st.sampled_from(["values", "limit", "under", "depth", "preload", "format", "force",
                     "strategy", "expect", "cursor", "x"]),
    st.sampled_from(["true", "0", "-1", "99999999999", "json", "dump", "\u00e9", "%ff", ""])
    | st.text(max_size=8),
    max_size=3,
)  # fmt: skip
REGEXES = st.sampled_from(["((.*)*)*!", "(a+)+$", "[[:digit:]]", "(a)\\1", "[", "(?i)x", "\\"])


def send(
    site: FuzzSite, method: str, path: str, query: dict[str, str], data: bytes, content_type: str
) -> int:
    async def request() -> int:
        headers = {"Content-Type": content_type} if content_type else {}
        async with site.clusterd.api.session.request(
            method, path, params=query, data=data, headers=headers
        ) as response:
            await response.read()
            return response.status

    return site.loop.run(request())


def _quoted(part: str) -> str:
    return quote(part, safe="/:", errors="surrogatepass")


requests = st.one_of(
    st.tuples(
        st.sampled_from(["instances/1", "clusters/1", "instances/99", "clusters/x"]),
        st.sampled_from(ROUTES),
        KEY_NAMES | REGEXES | st.text(max_size=12),
    ).map(lambda parts: (parts[1][0], f"/api/{parts[0]}/{parts[1][1]}/{_quoted(parts[2])}")),
    st.tuples(
        st.sampled_from(["GET", "POST", "PUT"]),
        st.sampled_from(["/api/instances", "/api/clusters", "/api/audit", "/api/", "/api/x"]),
    ),
)
bodies = json_texts | st.text(max_size=30).map(lambda text: text.encode("utf-8", "surrogatepass"))


@fuzz_settings(short_pass=150)
@given(
    request=requests,
    query=QUERIES,
    data=bodies,
    content_type=CONTENT_TYPES,
)
def test_every_input_gets_an_answer_below_500(
    fuzz_site: FuzzSite,
    request: tuple[str, str],
    query: dict[str, str],
    data: bytes,
    content_type: str,
) -> None:
    method, path = request
    status = send(fuzz_site, method, path, query, data, content_type)
    event(str(status))
    assert status < 500, (method, path, query, data[:80], content_type)
