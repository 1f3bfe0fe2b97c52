/* 家访通 online form: a signature pad. The drawing goes into a hidden field as a PNG data URL when the form is sent;
 * the server stores it as a photo of kind "signature". (The offline app has its own pad in form.js.) */
(function () {
  "use strict";
  document.querySelectorAll(".sigpad").forEach((pad) => {
    const canvas = pad.querySelector("canvas");
    const target = pad.parentElement.querySelector(`input[name="${pad.dataset.target}"]`);
    const ctx = canvas.getContext("2d");
    let drawing = false;
    let drawn = false;
    ctx.lineWidth = 3;
    ctx.lineCap = "round";
    ctx.strokeStyle = "#111";
    function point(e) {
      const r = canvas.getBoundingClientRect();
      return [(e.clientX - r.left) * (canvas.width / r.width), (e.clientY - r.top) * (canvas.height / r.height)];
    }
    canvas.addEventListener("pointerdown", (e) => {
      drawing = true;
      canvas.setPointerCapture(e.pointerId);
      ctx.beginPath();
      ctx.moveTo(...point(e));
      e.preventDefault();
    });
    canvas.addEventListener("pointermove", (e) => {
      if (!drawing) return;
      ctx.lineTo(...point(e));
      ctx.stroke();
      drawn = true;
    });
    const stop = () => { drawing = false; };
    canvas.addEventListener("pointerup", stop);
    canvas.addEventListener("pointercancel", stop);
    pad.querySelector(".sig-clear").addEventListener("click", () => {
      ctx.clearRect(0, 0, canvas.width, canvas.height);
      drawn = false;
      target.value = "";
    });
    canvas.closest("form").addEventListener("submit", () => {
      target.value = drawn ? canvas.toDataURL("image/png") : "";
    });
  });
})();
