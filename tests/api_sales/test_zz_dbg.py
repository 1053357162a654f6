import pytest
@pytest.mark.browser
def test_dbg(page, live_server):
    problems = []
    page.on("console", lambda msg: problems.append(msg.text))
    page.on("pageerror", lambda exc: problems.append(str(exc)))
    page.goto("/api/v1/docs")
    page.wait_for_timeout(8000)
    page.screenshot(path="/tmp/salesapi_docs.png")
    print("PROBLEMS", problems[:10])
