// Accessibility fixes to mdBook 0.5's pages, each found by axe-core in the
// browser test (`cargo xtask test`), which runs it on every page.
(function () {
    "use strict";
    // 1. The sidebar toggle is a <label> for a hidden checkbox, carrying
    //    aria-label and aria-controls, which a label may not carry, and no
    //    keyboard focus. Make it a button: named, focusable, and pressed with
    //    Enter or Space as a click.
    function fixSidebarToggle() {
        var toggle = document.getElementById("mdbook-sidebar-toggle");
        if (!toggle || toggle.getAttribute("role") === "button") {
            return;
        }
        toggle.setAttribute("role", "button");
        toggle.setAttribute("tabindex", "0");
        toggle.addEventListener("keydown", function (event) {
            if (event.key === "Enter" || event.key === " ") {
                event.preventDefault();
                toggle.click();
            }
        });
    }
    // 2. A code block wider than its box scrolls sideways; a keyboard user
    //    can scroll only what can take focus. Give focus to those that
    //    scroll (at this width), and to no other.
    function focusScrollingCode() {
        document.querySelectorAll("pre > code").forEach(function (code) {
            if (code.scrollWidth > code.clientWidth + 1) {
                code.setAttribute("tabindex", "0");
            } else if (code.getAttribute("tabindex") === "0") {
                code.removeAttribute("tabindex");
            }
        });
    }
    function fix() {
        fixSidebarToggle();
        focusScrollingCode();
    }
    if (document.readyState === "loading") {
        document.addEventListener("DOMContentLoaded", fix);
    } else {
        fix();
    }
    window.addEventListener("resize", focusScrollingCode);
})();
