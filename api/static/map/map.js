// The actor map: clusters from /api/v1/actors/clusters (small GeoJSON, good on weak
// networks), country outlines as a basemap served by Peacemap itself (no tile server).
"use strict";

const KINDS = ["organisation", "practitioner", "academic", "network", "funder", "government", "media"];
const map = L.map("map", { preferCanvas: true, worldCopyJump: true }).setView([12, 20], 3);
const markers = L.layerGroup().addTo(map);
const kind = document.getElementById("kind");
const theme = document.getElementById("theme");
const status = document.getElementById("status");
let request = null;

for (const k of KINDS) kind.add(new Option(k, k));
fetch("/api/v1/themes").then((r) => r.json()).then((themes) => {
  for (const t of themes) theme.add(new Option(t.label, t.key));
});
fetch("/static/map/world.geojson").then((r) => r.json()).then((world) => {
  L.geoJSON(world, { style: { color: "#8aa1b5", weight: 0.6, fillColor: "#f5f3ee", fillOpacity: 1 }, interactive: false })
    .addTo(map).bringToBack();
});

function escape(text) {
  const div = document.createElement("div");
  div.textContent = text;
  return div.innerHTML;
}

function load() {
  const b = map.getBounds();
  const clamp = (v, lo, hi) => Math.max(lo, Math.min(hi, v));
  const bbox = [clamp(b.getWest(), -180, 180), clamp(b.getSouth(), -90, 90), clamp(b.getEast(), -180, 180), clamp(b.getNorth(), -90, 90)];
  const params = new URLSearchParams({ zoom: Math.round(map.getZoom()), bbox: bbox.map((v) => v.toFixed(4)).join(",") });
  if (kind.value) params.set("kind", kind.value);
  if (theme.value) params.set("theme", theme.value);
  if (request) request.abort();
  request = new AbortController();
  status.textContent = "loading…";
  fetch("/api/v1/actors/clusters?" + params, { signal: request.signal })
    .then((r) => r.json())
    .then((collection) => {
      markers.clearLayers();
      let actors = 0;
      for (const feature of collection.features) {
        const [lon, lat] = feature.geometry.coordinates;
        const p = feature.properties;
        actors += p.count;
        const marker = L.circleMarker([lat, lon], {
          radius: p.count === 1 ? 6 : Math.min(28, 7 + 4 * Math.log2(p.count)),
          color: "#16324f", weight: 1, fillColor: p.count === 1 ? "#e4572e" : "#2e86ab", fillOpacity: 0.8,
        });
        marker.bindPopup(p.count === 1
          ? `<strong>${escape(p.name)}</strong><br>${escape(p.kind)}<br><a href="/actors/${p.id}">profile</a>`
          : `${p.count} actors here: zoom in`);
        markers.addLayer(marker);
      }
      status.textContent = `${actors} actors`;
      document.body.dataset.markers = String(collection.features.length);
    })
    .catch((error) => { if (error.name !== "AbortError") status.textContent = "could not load the map"; });
}

map.on("moveend", load);
kind.addEventListener("change", load);
theme.addEventListener("change", load);
load();
