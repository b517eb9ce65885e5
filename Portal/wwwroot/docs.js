// Copy buttons on the docs' code blocks. One listener on the document serves every block, including
// blocks that Blazor's enhanced navigation swaps in later. The docs page loads this module itself, so
// the buttons work as soon as the page does; Portal.lib.module.js imports it too (the same module, run
// once per document), because a docs page reached by enhanced navigation never runs its <script> tags.
// The copying itself is portal.copy (portal.js, loaded on every page before any click can happen).
const resetAfterMs = 2000;

function say(button, text, copied) {
    button.textContent = text;
    button.classList.toggle("copied", copied);
    clearTimeout(button.portalReset);
    button.portalReset = setTimeout(() => {
        button.textContent = "Copy";
        button.classList.remove("copied");
    }, resetAfterMs);
}

function selectContents(element) {
    const range = document.createRange();
    range.selectNodeContents(element);
    const selection = window.getSelection();
    selection.removeAllRanges();
    selection.addRange(range);
}

document.addEventListener("click", async (event) => {
    const button = event.target instanceof Element ? event.target.closest("[data-copy-code]") : null;
    const code = button?.closest(".code-block")?.querySelector("pre code");
    if (!code) {
        return;
    }

    if (await window.portal.copy(code.textContent)) {
        say(button, "Copied", true);
    } else {
        // Leave the code selected so Ctrl+C / long-press still gets it.
        selectContents(code);
        say(button, "Press Ctrl+C", false);
    }
});

// Lets tests (and the curious) tell when the buttons are live.
window.portalDocsCopyReady = true;
