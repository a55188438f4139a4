// The map beside the list (api/web/templates/find/map.html): an enhancement; the page works
// without it. Clusters at low zoom from /api/v1/actors/clusters; with filters the cluster
// endpoint does not know (text, language, near), the matching actors themselves from
// /api/v1/actors. Base layer: a tile server when configured, else the country outlines and
// place names Peacemap ships, so the map makes sense without internet access.
"use strict";

(function () {
  const element = document.getElementById("map");
  if (!element || !window.L) return;
  const data = element.dataset;
  const status = document.querySelector(".map-status");
  const filters = new URLSearchParams(data.filters);
  const clustered = ["q", "language", "near"].every((name) => !filters.has(name));
  const say = (template, count) => { status.textContent = template.replace("{count}", count); };

  const map = L.map(element, { preferCanvas: true, worldCopyJump: true, zoomControl: true });
  map.setView([12, 20], element.clientWidth < 500 ? 1 : 2);
  map.attributionControl.setPrefix(false);
  if (data.tiles) {
    L.tileLayer(data.tiles, { attribution: data.attribution, maxZoom: 18 }).addTo(map);
  } else {
    outlines();
  }
  const markers = L.layerGroup().addTo(map);

  function outlines() {
    const names = window.Intl && Intl.DisplayNames
      ? new Intl.DisplayNames([document.documentElement.lang], { type: "region" }) : null;
    const countryLabels = L.layerGroup();
    const placeLabels = L.layerGroup();
    const label = (name, latlng, className) => L.marker(latlng, {
      icon: L.divIcon({ className: "map-label " + className, html: "", iconSize: null }),
      interactive: false, keyboard: false,
    }).on("add", (event) => { event.target.getElement().textContent = name; });
    // Country outlines, compact: [[code, [[ring, ...], ...]], ...], each ring a flat list
    // of longitude/latitude steps in twentieths of a degree (the shipped data's resolution).
    fetch(data.world).then((r) => r.json()).then((world) => {
      const land = L.featureGroup();
      for (const [code, polygons] of world) {
        const shape = L.polygon(polygons.map((rings) => rings.map((steps) => {
          const points = [];
          for (let i = 0, x = 0, y = 0; i < steps.length; i += 2) {
            x += steps[i]; y += steps[i + 1];
            points.push([y / 20, x / 20]);
          }
          return points;
        })), { color: "#8aa1b5", weight: 0.6, fillColor: "#f5f3ee", fillOpacity: 1, interactive: false });
        land.addLayer(shape);
        if (names && code) countryLabels.addLayer(label(names.of(code), shape.getBounds().getCenter(), "map-country"));
      }
      land.addTo(map).bringToBack();
      relabel();
    });
    fetch(data.places).then((r) => r.json()).then((places) => {
      places.forEach(([name, lon, lat], rank) => {
        const marker = label(name, [lat, lon], "map-place");
        marker.rank = rank;
        placeLabels.addLayer(marker);
      });
      relabel();
    });
    // Country names from zoom 3, the largest cities from zoom 4, more as one zooms in.
    function relabel() {
      const zoom = map.getZoom();
      if (zoom >= 3 && zoom < 6) countryLabels.addTo(map); else countryLabels.remove();
      placeLabels.remove();
      if (zoom >= 4) {
        const shown = zoom >= 6 ? 300 : zoom === 5 ? 80 : 25;
        const bounds = map.getBounds();
        placeLabels.eachLayer((marker) => {
          if (marker.rank < shown && bounds.contains(marker.getLatLng())) marker.addTo(map);
          else marker.remove();
        });
      } else {
        placeLabels.eachLayer((marker) => marker.remove());
      }
    }
    map.on("zoomend moveend", relabel);
  }

  function escapeText(text) {
    const span = document.createElement("span");
    span.textContent = text;
    return span.innerHTML;
  }

  let request = null;
  function load() {
    const b = map.getBounds();
    const clamp = (v, lo, hi) => Math.max(lo, Math.min(hi, v));
    const bbox = [clamp(b.getWest(), -180, 180), clamp(b.getSouth(), -90, 90),
      clamp(b.getEast(), -180, 180), clamp(b.getNorth(), -90, 90)].map((v) => v.toFixed(4)).join(",");
    const params = new URLSearchParams(filters);
    let url;
    if (clustered) {
      params.set("zoom", Math.round(map.getZoom()));
      params.set("bbox", bbox);
      url = "/api/v1/actors/clusters?" + params;
    } else {
      params.set("fields", "name,kind,location");
      params.set("limit", "500");
      params.set("f", "geojson");
      url = "/api/v1/actors?" + params;
    }
    if (request) request.abort();
    request = new AbortController();
    say(data.statusLoading);
    fetch(url, { signal: request.signal })
      .then((r) => { if (!r.ok) throw new Error(r.status); return r.json(); })
      .then((collection) => {
        markers.clearLayers();
        let actors = 0;
        for (const feature of collection.features) {
          if (!feature.geometry) continue;
          const [lon, lat] = feature.geometry.coordinates;
          const p = feature.properties;
          const count = p.count || 1;
          actors += count;
          const marker = L.circleMarker([lat, lon], {
            radius: count === 1 ? 7 : Math.min(28, 8 + 4 * Math.log2(count)),
            color: "#16324f", weight: 1, fillColor: count === 1 ? "#e4572e" : "#2e86ab", fillOpacity: 0.85,
          });
          const id = p.id || feature.id;
          if (count === 1) {
            marker.bindPopup(`<strong>${escapeText(p.name)}</strong><br><a href="/actors/${encodeURIComponent(id)}">${escapeText(data.profile)}</a>`);
          } else {
            marker.bindTooltip(data.zoomIn.replace("{count}", count));
            marker.on("click", () => map.setView([lat, lon], Math.min(map.getZoom() + 2, 18)));
          }
          markers.addLayer(marker);
        }
        say(data.statusCount, actors);
        element.dataset.markers = String(markers.getLayers().length);
      })
      .catch((error) => { if (error.name !== "AbortError") say(data.statusFailed); });
  }
  map.on("moveend", load);
  load();

  // "Near me": the reader's position, rounded to about a kilometre, fills the near field.
  const nearMe = document.querySelector(".near-me");
  const near = document.querySelector('input[name="near"]');
  if (nearMe && near && navigator.geolocation) {
    nearMe.hidden = false;
    nearMe.addEventListener("click", () => {
      navigator.geolocation.getCurrentPosition((position) => {
        near.value = position.coords.longitude.toFixed(2) + "," + position.coords.latitude.toFixed(2);
        near.form.requestSubmit();
      });
    });
  }
})();
