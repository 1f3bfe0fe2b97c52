/* 家访通 photo capture: shrink a phone photo to ≤1600 px / ≈250 KB JPEG, keep its EXIF (time, GPS) for the server's
 * evidence checks, and name it by the SHA-256 of the final bytes (the sync contract's photo id). Signatures are
 * named the same way (signature.js). */
(function (JF) {
  "use strict";
  const MAX_SIDE = 1600;
  const MIN_SIDE = 1024;
  const QUALITIES = [0.75, 0.65, 0.55];
  const TARGET = 250 * 1024;
  const TYPE_SIZE = { 1: 1, 2: 1, 3: 2, 4: 4, 5: 8, 6: 1, 7: 1, 8: 2, 9: 4, 10: 8, 11: 4, 12: 8 };

  /** The TIFF block of the original's EXIF APP1 segment, ready to reuse; null when not a JPEG or no EXIF. */
  function exifOf(b) {
    if (b[0] !== 0xFF || b[1] !== 0xD8) return null;
    let i = 2;
    while (i + 4 <= b.length) {
      if (b[i] !== 0xFF) return null;
      const marker = b[i + 1];
      if (marker === 0xFF) { i++; continue; }                     // fill byte
      if (marker === 0xDA || marker === 0xD9) return null;        // image data starts: no EXIF
      const len = (b[i + 2] << 8) | b[i + 3];
      if (marker === 0xE1 && len > 14 && String.fromCharCode(b[i + 4], b[i + 5], b[i + 6], b[i + 7]) === "Exif" && b[i + 8] === 0 && b[i + 9] === 0) {
        try {
          return uprightTiff(b.slice(i + 10, i + 2 + len));
        } catch (e) {
          return null;  // malformed EXIF: send the photo without it rather than fail
        }
      }
      i += 2 + len;
    }
    return null;
  }

  /** Rewrite Orientation to 1 (the pixels are already upright) and drop IFD1 (the embedded thumbnail: bytes on 2G). */
  function uprightTiff(tiff) {
    const v = new DataView(tiff.buffer, tiff.byteOffset, tiff.byteLength);
    const le = tiff[0] === 0x49;
    if (!(le || tiff[0] === 0x4D) || v.getUint16(2, le) !== 42) return null;
    const u16 = (o) => v.getUint16(o, le);
    const u32 = (o) => v.getUint32(o, le);
    let end = 8;  // the furthest byte any kept structure uses
    const seen = new Set();

    function walk(ifd, isIfd0) {
      if (!ifd || seen.has(ifd) || ifd + 2 > tiff.length) return;
      seen.add(ifd);
      const n = u16(ifd);
      end = Math.max(end, ifd + 2 + 12 * n + 4);
      for (let k = 0; k < n; k++) {
        const e = ifd + 2 + 12 * k;
        const tag = u16(e);
        const size = (TYPE_SIZE[u16(e + 2)] || 1) * u32(e + 4);
        if (size > 4) end = Math.max(end, u32(e + 8) + size);
        if (isIfd0 && tag === 0x0112 && u16(e + 2) === 3) v.setUint16(e + 8, 1, le);
        if (tag === 0x8769 || tag === 0x8825 || tag === 0xA005) walk(u32(e + 8), false);
      }
    }

    const ifd0 = u32(4);
    walk(ifd0, true);
    const nextPtr = ifd0 + 2 + 12 * u16(ifd0);
    const ifd1 = u32(nextPtr);
    if (ifd1) {
      v.setUint32(nextPtr, 0, le);
      if (ifd1 >= end) return tiff.slice(0, ifd1);  // the thumbnail sits after everything else: cut it off
    }
    return end <= tiff.length ? tiff : null;
  }

  /** Put an EXIF APP1 segment (from a TIFF block) into a JPEG, after SOI and any JFIF APP0. */
  function withExif(jpeg, tiff) {
    const len = 2 + 6 + tiff.length;
    if (len > 0xFFFF) return jpeg;
    let at = 2;
    if (jpeg[2] === 0xFF && jpeg[3] === 0xE0) at = 4 + ((jpeg[4] << 8) | jpeg[5]);
    const seg = new Uint8Array(2 + len);
    seg.set([0xFF, 0xE1, len >> 8, len & 0xFF, 0x45, 0x78, 0x69, 0x66, 0, 0]);
    seg.set(tiff, 10);
    const out = new Uint8Array(jpeg.length + seg.length);
    out.set(jpeg.subarray(0, at), 0);
    out.set(seg, at);
    out.set(jpeg.subarray(at), at + seg.length);
    return out;
  }

  function canvasFor(w, h) {
    if (typeof OffscreenCanvas !== "undefined") return new OffscreenCanvas(w, h);
    const c = document.createElement("canvas");
    c.width = w;
    c.height = h;
    return c;
  }

  function encode(canvas, quality) {
    if (canvas.convertToBlob) return canvas.convertToBlob({ type: "image/jpeg", quality });
    return new Promise((resolve) => canvas.toBlob(resolve, "image/jpeg", quality));
  }

  async function sha256Hex(bytes) {
    const digest = new Uint8Array(await crypto.subtle.digest("SHA-256", bytes));
    return Array.from(digest, (x) => x.toString(16).padStart(2, "0")).join("");
  }

  /** Shrink one picked file; resolves with {sha, blob, type, size, width, height}. */
  async function processPhoto(file) {
    const original = new Uint8Array(await file.arrayBuffer());
    const tiff = exifOf(original);
    const extra = tiff ? tiff.length + 10 : 0;
    // from-image: Chrome applies the EXIF orientation while decoding, so the pixels come out upright.
    const bitmap = await createImageBitmap(file, { imageOrientation: "from-image" });
    let side = MAX_SIDE;
    let blob;
    let w;
    let h;
    try {
      for (;;) {
        const scale = Math.min(1, side / Math.max(bitmap.width, bitmap.height));
        w = Math.max(1, Math.round(bitmap.width * scale));
        h = Math.max(1, Math.round(bitmap.height * scale));
        const canvas = canvasFor(w, h);
        const ctx = canvas.getContext("2d");
        ctx.imageSmoothingQuality = "high";
        ctx.drawImage(bitmap, 0, 0, w, h);
        for (const q of QUALITIES) {
          blob = await encode(canvas, q);
          if (blob.size + extra <= TARGET) break;
        }
        if (blob.size + extra <= TARGET || side <= MIN_SIDE || scale === 1) break;
        side = Math.max(MIN_SIDE, Math.round(side * 0.8));
      }
    } finally {
      bitmap.close();
    }
    let bytes = new Uint8Array(await blob.arrayBuffer());
    if (tiff) bytes = withExif(bytes, tiff);
    const sha = await sha256Hex(bytes);
    return { sha, blob: new Blob([bytes], { type: "image/jpeg" }), type: "image/jpeg", size: bytes.length, width: w, height: h };
  }

  /** Shrink a picked file and keep it in IndexedDB's photo store, waiting for upload; resolves with its sha. */
  async function keepPhoto(file) {
    const p = await processPhoto(file);
    await JF.db.put("photos", Object.assign(p, { uploaded: false, added_at: new Date().toISOString() }));
    return p.sha;
  }

  JF.capture = { processPhoto, keepPhoto, exifOf, withExif, sha256Hex };
})(self.JF = self.JF || {});
