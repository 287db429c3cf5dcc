"""Import and export: OSM, GeoJSON, GeoPackage, Shapefile, CSV, XLSX; CRS handling."""

from gridmgmt.io.errors import InputError, Problem
from gridmgmt.io.import_report import ImportReport
from gridmgmt.io.readers import LAYER_KINDS, ImportResult, empty_layer, read_layers, read_polygons

__all__ = [
    "LAYER_KINDS",
    "ImportReport",
    "ImportResult",
    "InputError",
    "Problem",
    "empty_layer",
    "read_layers",
    "read_polygons",
]
