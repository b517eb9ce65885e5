// Copy buttons on the docs' code blocks. One listener on the document serves every block, including
// blocks that Blazor's enhanced navigation swaps in later. The docs page loads this module itself, so
// the buttons work as soon as the page does; Portal.lib.module.js imports it too (the same module, run
// once per document), because a docs page reached by enhanced navigation never runs its <script> tags.
const resetAfterMs = 2000;

async function copyText(text) {
    if (navigator.clipboard && window.isSecureContext) {
        await navigator.clipboard.writeText(text);
        return;
    }

    // Plain-HTTP installs (e.g. http://192.168.1.20:5000) have no Clipboard API: the old way still works.
    const area = document.createElement("textarea");
    area.value = text;
    area.setAttribute("readonly", "");
    area.style.position = "fixed";
    area.style.opacity = "0";
    document.body.appendChild(area);
    area.select();
    const copied = document.execCommand("copy");
    area.remove();
    if (!copied) {
        throw new Error("The browser refused to copy.");
    }
}

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

    try {
        await copyText(code.textContent);
        say(button, "Copied", true);
    } catch {
        // Leave the code selected so Ctrl+C / long-press still gets it.
        selectContents(code);
        say(button, "Press Ctrl+C", false);
    }
});

// Lets tests (and the curious) tell when the buttons are live.
window.portalDocsCopyReady = true;
