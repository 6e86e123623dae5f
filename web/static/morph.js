// Update a part of the page to a freshly built copy by changing only what differs.
// Live screens rebuild their content from each event; replacing the elements would
// throw away a button between the press and the release of a click (the click is then
// lost) and close nothing but the user's patience. Morphing keeps every element whose
// tag (and data-key, where given) still matches, and only edits its text and attributes.
(function () {
  "use strict";

  function same(a, b) {
    if (a.nodeType !== b.nodeType) return false;
    if (a.nodeType !== Node.ELEMENT_NODE) return true;
    return a.tagName === b.tagName && (a.getAttribute("data-key") || "") === (b.getAttribute("data-key") || "");
  }

  function attributes(old, fresh) {
    Array.from(old.attributes).forEach(function (a) {
      if (!fresh.hasAttribute(a.name)) old.removeAttribute(a.name);
    });
    Array.from(fresh.attributes).forEach(function (a) {
      if (old.getAttribute(a.name) !== a.value) old.setAttribute(a.name, a.value);
    });
    // Properties that do not follow their attribute once touched.
    if ("disabled" in old && old.disabled !== fresh.disabled) old.disabled = fresh.disabled;
  }

  function node(old, fresh) {
    if (old.nodeType !== Node.ELEMENT_NODE) {
      if (old.nodeValue !== fresh.nodeValue) old.nodeValue = fresh.nodeValue;
      return;
    }
    attributes(old, fresh);
    children(old, Array.from(fresh.childNodes));
  }

  // Morph parent's children into ``fresh`` (a list of nodes not in the document).
  function children(parent, fresh) {
    fresh.forEach(function (f, i) {
      const old = parent.childNodes[i];
      if (!old) parent.appendChild(f);
      else if (same(old, f)) node(old, f);
      else {
        // A keyed element further on is moved up rather than rebuilt.
        const key = f.nodeType === Node.ELEMENT_NODE && f.getAttribute("data-key");
        const match = key && Array.from(parent.childNodes).slice(i + 1).find(function (c) { return same(c, f); });
        if (match) { parent.insertBefore(match, old); node(match, f); }
        else parent.insertBefore(f, old);
      }
    });
    while (parent.childNodes.length > fresh.length) parent.removeChild(parent.lastChild);
  }

  window.examroomMorph = children;
})();
