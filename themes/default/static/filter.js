// Filters the list of procedures as the reader types. Without JavaScript the
// search box stays hidden and the whole list is there.
(function () {
  "use strict";
  var box = document.querySelector("[data-filter]");
  if (!box) return;
  var input = box.querySelector("input");
  var status = box.querySelector("[role=status]");
  var cards = Array.prototype.slice.call(document.querySelectorAll("[data-procedure]"));
  var sections = Array.prototype.slice.call(document.querySelectorAll("[data-category]"));
  var texts = cards.map(function (c) { return normalise(c.textContent); });
  box.hidden = false;

  function normalise(s) {
    return s.toLowerCase().normalize("NFD").replace(/[\u0300-\u036f]/g, "").replace(/\s+/g, " ");
  }

  function update() {
    var words = normalise(input.value).trim().split(" ").filter(Boolean);
    var shown = 0;
    cards.forEach(function (card, i) {
      var match = words.every(function (w) { return texts[i].indexOf(w) !== -1; });
      card.hidden = !match;
      if (match) shown++;
    });
    sections.forEach(function (s) {
      s.hidden = !s.querySelector("[data-procedure]:not([hidden])");
    });
    var noun = cards.length === 1 ? "procedure" : "procedures";
    status.textContent = words.length === 0
      ? cards.length + " " + noun
      : shown === 0
        ? "No procedure matches \u201c" + input.value.trim() + "\u201d."
        : shown + " of " + cards.length + " " + noun + " match.";
  }

  input.addEventListener("input", update);
})();
