// The location picker's map. The form works without it (a place name or typed coordinates);
// with JavaScript, a button opens a map whose click fills the latitude and longitude in.
// Leaflet and the country outlines load only when asked for: the form stays light on a phone.
"use strict";
(function () {
  const box = document.getElementById("picker-map");
  if (!box) return;
  const latitude = document.getElementById("f-latitude");
  const longitude = document.getElementById("f-longitude");
  const open = document.createElement("button");
  open.type = "button";
  open.textContent = box.dataset.label;
  box.before(open);
  open.addEventListener("click", () => {
    open.hidden = true;
    box.hidden = false;
    show();
  });

  function script(src) {
    return new Promise((resolve, reject) => {
      const element = document.createElement("script");
      element.src = src;
      element.onload = resolve;
      element.onerror = reject;
      document.head.append(element);
    });
  }

  function show() {
    const sheet = document.createElement("link");
    sheet.rel = "stylesheet";
    sheet.href = box.dataset.leafletCss;
    document.head.append(sheet);
    script(box.dataset.leafletJs).then(() => {
      const known = latitude.value && longitude.value;
      const map = L.map(box, { worldCopyJump: true })
        .setView(known ? [+latitude.value, +longitude.value] : [5, 20], known ? 6 : 2);
      // The shipped outlines (find-map.js reads the same file): [[code, polygons], ...], each
      // ring a flat list of longitude/latitude steps in twentieths of a degree.
      fetch(box.dataset.world).then((r) => r.json()).then((world) => {
        const rings = world.flatMap(([, polygons]) => polygons.map((polygon) => polygon.map((steps) => {
          const points = [];
          for (let i = 0, x = 0, y = 0; i < steps.length; i += 2) {
            x += steps[i]; y += steps[i + 1];
            points.push([y / 20, x / 20]);
          }
          return points;
        })));
        L.polygon(rings, { color: "#8aa1b5", weight: 0.6, fillColor: "#f5f3ee", fillOpacity: 1, interactive: false })
          .addTo(map);
      });
      let marker = null;
      const put = (point) => {
        if (marker) marker.setLatLng(point);
        else marker = L.circleMarker(point, { radius: 8, color: "#16324f", fillColor: "#e4572e", fillOpacity: 0.9 }).addTo(map);
      };
      if (known) put([+latitude.value, +longitude.value]);
      map.on("click", (event) => {
        const point = event.latlng.wrap();
        latitude.value = point.lat.toFixed(5);
        longitude.value = point.lng.toFixed(5);
        put(point);
      });
    });
  }
})();
