"""Features written once and completed per request read as the GeoJSON written in one go."""

from __future__ import annotations

import json

import shapely

from webapp.feature_json import draw_features, feature_collection_bytes


def dumps(obj):
    return json.dumps(obj, ensure_ascii=False, sort_keys=True)


def test_completed_features_parse_as_one_feature_collection():
    geoms = [shapely.box(0, 0, 1, 1), None, shapely.Point(2, 3), shapely.Polygon()]
    props = [{"code": "A", "n": 1}, {"code": "B", "n": 2}, {}, {"code": "D", "name": "东湖"}]
    drawn = draw_features(geoms, props, dumps, keys=["A", "B", "C", "D"], ids=[1, 2, 3, "d"])
    late = {"A": {"open": 4}, "C": {"open": 1}}
    body = feature_collection_bytes(
        drawn, dumps, late=lambda k: late.get(k, {}), members={"numberMatched": 9}
    )
    parsed = json.loads(body)
    assert parsed["type"] == "FeatureCollection" and parsed["numberMatched"] == 9
    f = parsed["features"]
    assert [x["id"] for x in f] == [1, 2, 3, "d"]
    assert f[0]["geometry"]["type"] == "Polygon" and f[0]["properties"] == {
        "code": "A",
        "n": 1,
        "open": 4,
    }
    assert f[1]["geometry"] is None and f[1]["properties"] == {"code": "B", "n": 2}
    assert f[2]["geometry"] == {"type": "Point", "coordinates": [2.0, 3.0]}
    assert f[2]["properties"] == {"open": 1}  # empty properties, then a late one: no stray comma
    assert f[3]["geometry"] is None and f[3]["properties"]["name"] == "东湖"
    # the same features a second time with other late values: geometries are not written again
    again = json.loads(feature_collection_bytes(drawn, dumps))
    assert again["features"][0]["properties"] == {"code": "A", "n": 1}


def test_no_features_is_an_empty_collection():
    drawn = draw_features([], [], dumps)
    assert json.loads(feature_collection_bytes(drawn, dumps)) == {
        "type": "FeatureCollection",
        "features": [],
    }
