"""The labeling page end to end in real headless Chromium: a labeler imports, plays, edits, saves and exports.

Runs Debian's ``chromium`` (``apt install chromium``; .ci/run should install it)
through Playwright's Python API, with no browser download. Screenshots of the
main screen and the progress view go to /tmp/label_main.png and
/tmp/label_progress.png.
"""

from __future__ import annotations

import json
import re
import shutil
from datetime import datetime

import httpx
import pytest

from data_tools.labeling.store import LabelStore

from .conftest import LEOPARD, RHINO_OUT, RHINO_WITHIN
from .test_labeling import REFERENCE, free_port, kocall_serve, serve_env

playwright = pytest.importorskip("playwright.sync_api", reason="pip install playwright (the test extra has it)")

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--no-first-run", "--autoplay-policy=no-user-gesture-required"]
MAIN_SCREENSHOT = "/tmp/label_main.png"
PROGRESS_SCREENSHOT = "/tmp/label_progress.png"


@pytest.mark.slow
def test_a_labeler_plays_edits_saves_and_exports_real_speech_in_chromium(
        settings, models_dir, intent_model, utterance_type_model, transcriber, tmp_path):
    if CHROMIUM is None:
        pytest.skip("Debian's chromium is not installed (apt install chromium; .ci/run does this)")
    expect = playwright.expect
    env = serve_env(settings, models_dir, tmp_path / "data")
    labelers = LabelStore(tmp_path / "data" / "labels.sqlite")
    token, lee = labelers.add_labeler("kim"), labelers.add_labeler("lee")
    port = free_port()
    url = f"http://127.0.0.1:{port}/label"
    with kocall_serve(env, port, tmp_path / "serve.log"), playwright.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        page = browser.new_page(viewport={"width": 1400, "height": 900}, accept_downloads=True)
        errors: list[str] = []
        page.on("pageerror", lambda error: errors.append(str(error)))

        assert page.goto(url).status == 401
        page.goto(f"{url}?token={token}")
        assert page.url == f"{url}/"  # the token left the address bar for a cookie
        expect(page.locator("body")).to_have_attribute("data-ready", "true")
        expect(page.locator("#who")).to_have_text("signed in as kim")

        # Import the real recordings through the page; the server pre-transcribes them.
        page.set_input_files("#import-files", [str(LEOPARD), str(RHINO_WITHIN), str(RHINO_OUT)])
        expect(page.locator("#message")).to_contain_text("Imported 3", timeout=180_000)
        expect(page.locator(".queue-item")).to_have_count(3)
        page.locator(".queue-item", has_text=LEOPARD.name).click()
        expect(page.locator("#wave")).to_have_attribute("data-loaded", "true", timeout=30_000)
        drawn = page.eval_on_selector("#wave", """c => { const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
            let n = 0; for (let i = 0; i < d.length; i += 4) if (d[i] === 51 && d[i+1] === 65 && d[i+2] === 85) n++; return n; }""")
        assert drawn > 1000  # the waveform, decoded by WebAudio in the page
        rows = page.locator("#segments tbody tr")
        expect(rows).to_have_count(1)
        assert page.locator("#segments textarea").first.input_value() != REFERENCE  # Whisper got a word wrong

        # Play: R replays the selected segment to its end; Space plays and pauses.
        page.locator("#item-head").click()
        page.keyboard.press("r")
        expect(page.locator("body")).to_have_attribute("data-playing", "true")
        expect(page.locator("body")).to_have_attribute("data-playing", "false", timeout=10_000)
        end = float(page.locator("#segments input.end").first.input_value())
        assert page.locator("#position").inner_text().startswith(f"{end:.2f} s")
        page.keyboard.press("Space")
        expect(page.locator("body")).to_have_attribute("data-playing", "true")
        page.wait_for_timeout(300)
        page.keyboard.press("Space")
        expect(page.locator("body")).to_have_attribute("data-playing", "false")

        # Correct the text, split it at the cursor (Alt+S while typing), merge and split again.
        text = page.locator("#segments textarea").first
        text.fill(REFERENCE)
        cut = REFERENCE.index(" 길")
        text.evaluate(f"a => a.setSelectionRange({cut}, {cut})")
        page.keyboard.press("Alt+s")
        expect(rows).to_have_count(2)
        page.locator("#segments tbody tr").first.click()
        page.click("#merge")
        expect(rows).to_have_count(1)
        assert page.locator("#segments textarea").first.input_value() == REFERENCE
        text.evaluate(f"a => {{ a.focus(); a.setSelectionRange({cut}, {cut}); }}")
        page.click("#split")
        expect(rows).to_have_count(2)
        texts = page.locator("#segments textarea")
        assert [texts.nth(0).input_value(), texts.nth(1).input_value()] == ["그는 이리저리 피하면서", "길 한 옆으로 걸어갔다"]

        # Drag the first segment's start edge 30 pixels to the right on the waveform.
        box = page.locator("#wave").bounding_box()
        start = float(page.locator("#segments input.start").first.input_value())
        x = box["x"] + box["width"] * start / float(page.locator("#wave").get_attribute("data-duration"))
        page.mouse.move(x, box["y"] + 40)
        page.mouse.down()
        page.mouse.move(x + 30, box["y"] + 40, steps=5)
        page.mouse.up()
        assert float(page.locator("#segments input.start").first.input_value()) > start + 0.05

        # Type the boundaries heard, choose intents, flag the noise, save with Ctrl+S.
        for row, (start, stop) in enumerate(((0.6, 1.9), (2.05, 3.3))):
            page.locator("#segments input.start").nth(row).fill(str(start))
            page.locator("#segments input.end").nth(row).fill(str(stop))
            page.locator("#segments select.intent").nth(row).select_option("out_of_scope")
        page.check("#flag-noise")
        page.keyboard.press("Control+s")
        expect(page.locator("#message")).to_contain_text(re.compile(r"Saved: item \d+ is at version 2"))
        page.select_option("#filter-status", "")  # the whole queue in the picture, the saved item included
        expect(page.locator(".queue-item")).to_have_count(3)
        page.mouse.move(0, 0)
        page.screenshot(path=MAIN_SCREENSHOT, full_page=True)

        # Reload: the saved label is what the server gives back.
        page.reload()
        expect(page.locator("body")).to_have_attribute("data-ready", "true")
        page.select_option("#filter-status", "labeled")
        page.locator(".queue-item", has_text=LEOPARD.name).click()
        expect(rows).to_have_count(2)
        assert [texts.nth(0).input_value(), texts.nth(1).input_value()] == ["그는 이리저리 피하면서", "길 한 옆으로 걸어갔다"]
        assert page.locator("#segments input.start").nth(1).input_value() == "2.05"
        assert page.locator("#segments select.intent").nth(0).input_value() == "out_of_scope"
        assert page.is_checked("#flag-noise") and not page.is_checked("#flag-unusable")
        expect(page.locator("#history")).to_contain_text("v2 · kim")

        # Export the evaluation manifest from the page.
        with page.expect_download() as download:
            page.click("#export-manifest")
        assert download.value.suggested_filename.startswith("labels-")
        [line] = [json.loads(x) for x in open(download.value.path(), encoding="utf-8").read().splitlines()]
        assert line["segments"] == [
            {"start": 0.6, "end": 1.9, "text": "그는 이리저리 피하면서", "intent": "out_of_scope"},
            {"start": 2.05, "end": 3.3, "text": "길 한 옆으로 걸어갔다", "intent": "out_of_scope"}]
        assert line["sample_rate"] == 16000 and line["labeler"] == "kim" and line["flags"] == ["noise"]
        assert open(line["audio"], "rb").read() == LEOPARD.read_bytes()
        datetime.fromisoformat(line["labeled_at"])

        # Meanwhile a second labeler saves the same item; kim's next save is refused, not silently lost.
        api = httpx.Client(base_url=f"{url}/api", headers={"Authorization": f"Bearer {lee}"})
        theirs = api.get(f"/items/{line['item_id']}").json()["item"]
        theirs["segments"][1]["text"] = "길 옆으로 걸어갔다"
        assert api.put(f"/items/{theirs['id']}", json={k: theirs[k] for k in ("version", "segments", "flags", "status")}
                       ).status_code == 200
        texts.nth(0).fill("그는 이리저리 피하면서요")
        page.keyboard.press("Control+s")
        expect(page.locator("#conflict")).to_be_visible()
        expect(page.locator("#conflict")).to_contain_text("lee")
        assert texts.nth(0).input_value() == "그는 이리저리 피하면서요"  # the unsaved edit is still there
        page.click("#take-theirs")
        assert [texts.nth(0).input_value(), texts.nth(1).input_value()] == ["그는 이리저리 피하면서", "길 옆으로 걸어갔다"]

        page.click("#tab-progress")
        expect(page.locator("#progress")).to_contain_text("kim / lee")
        page.screenshot(path=PROGRESS_SCREENSHOT, full_page=True)
        browser.close()
        assert errors == []
