"""Geometry and spatial SQL for Peacemap: GeoJSON parsing, countries, location
generalisation and spatial filter expressions. No Flask here."""
