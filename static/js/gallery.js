/* 家访通 photo galleries on the review pages: swipe on a phone (CSS scroll-snap does that), buttons and arrow keys
 * elsewhere. Pure enhancement: without this script the strip still scrolls. */
(function () {
  "use strict";
  function step(track, dir) {
    track.scrollBy({ left: dir * track.clientWidth, behavior: "smooth" });
  }
  document.querySelectorAll(".gallery").forEach((g) => {
    const track = g.querySelector(".gallery-track");
    const prev = g.querySelector(".prev");
    const next = g.querySelector(".next");
    if (prev) prev.addEventListener("click", () => step(track, -1));
    if (next) next.addEventListener("click", () => step(track, 1));
    track.addEventListener("keydown", (e) => {
      if (e.key === "ArrowRight") { step(track, 1); e.preventDefault(); }
      if (e.key === "ArrowLeft") { step(track, -1); e.preventDefault(); }
    });
  });
})();
