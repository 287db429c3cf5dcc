"""The layers the importer produces and the words users' files use for them.

Column aliases (Chinese and English), category and building-type words and
the code lengths of administrative levels: the vocabulary that reading,
checking and normalising a file share.
"""

from __future__ import annotations

from gridmgmt.core.layers import (
    BOUNDARY_COLUMNS,
    BUILDING_COLUMNS,
    COMPOUND_COLUMNS,
    FACILITY_COLUMNS,
    ROAD_COLUMNS,
)

LAYER_KINDS = ("buildings", "roads", "compounds", "facilities", "boundaries")
LAYER_COLUMNS = {
    "buildings": BUILDING_COLUMNS,
    "roads": ROAD_COLUMNS,
    "compounds": COMPOUND_COLUMNS,
    "facilities": FACILITY_COLUMNS,
    "boundaries": BOUNDARY_COLUMNS,
}
ID_COLUMN = {
    "buildings": "building_id",
    "roads": "road_id",
    "compounds": "compound_id",
    "facilities": "facility_id",
    "boundaries": "code",
}

#: our column <- names found in users' files (case-insensitive), per layer
ALIASES = {
    "buildings": {
        "building_id": ("building_id", "id", "fid", "osm_id", "编号", "建筑编号", "楼栋编号"),
        "building_type": ("building_type", "type", "类型", "建筑类型", "building", "kind_detail"),
        "floors": ("floors", "层数", "楼层", "levels", "building:levels"),
        "height": ("height", "高度", "建筑高度", "height_m", "building:height"),
        "addr_street": ("addr_street", "addr:street", "路名", "街路巷", "街巷"),
        "addr_housenumber": ("addr_housenumber", "addr:housenumber", "门牌号", "门牌"),
        "households": ("households", "户数", "住户数", "hh"),
        "population": ("population", "人口", "人口数"),
        "compound_id": ("compound_id", "小区编号"),
        "name": ("name", "名称", "楼栋名称", "建筑名称"),
    },
    "roads": {
        "road_id": ("road_id", "id", "osm_id", "编号"),
        "road_class": ("road_class", "highway", "class", "等级", "道路等级"),
        "name": ("name", "名称", "道路名称"),
    },
    "compounds": {
        "compound_id": ("compound_id", "id", "编号"),
        "compound_kind": ("compound_kind", "kind", "类别"),
        "landuse": ("landuse", "用地类型", "用地", "type", "类型"),
        "name": ("name", "名称", "小区名称"),
    },
    "facilities": {
        "facility_id": ("facility_id", "id", "编号", "poi_id"),
        "category": ("category", "类别", "type", "类型", "amenity"),
        "name": ("name", "名称"),
    },
    "boundaries": {
        "level": ("level", "级别", "层级"),
        "code": ("code", "编码", "代码", "adcode", "区划代码"),
        "name": ("name", "名称"),
        "parent_code": ("parent_code", "parent", "上级编码", "上级代码", "上级区划代码"),
    },
}

#: Chinese or AMap-style category words -> facility category (first match wins)
CATEGORY_WORDS = (
    ("幼儿园", "kindergarten"),
    ("大学", "university"),
    ("高等院校", "university"),
    ("学院", "university"),
    ("学校", "school"),
    ("中学", "school"),
    ("小学", "school"),
    ("医院", "hospital"),
    ("诊所", "clinic"),
    ("卫生服务", "clinic"),
    ("卫生室", "clinic"),
    ("菜市场", "market"),
    ("农贸市场", "market"),
    ("超市", "market"),
    ("市场", "market"),
    ("派出所", "police"),
    ("公安", "police"),
    ("公园", "park"),
    ("街道办", "government"),
    ("政府", "government"),
    ("居委会", "community_centre"),
    ("社区服务", "community_centre"),
    ("养老", "elderly_care"),
    ("敬老", "elderly_care"),
    ("体育", "sports"),
    ("图书馆", "culture"),
    ("文化", "culture"),
    ("物业", "property_management"),
)

#: Chinese building type words -> our type
BUILDING_WORDS = {
    "住宅": "residential",
    "居民楼": "residential",
    "高层住宅": "apartments",
    "多层住宅": "apartments",
    "别墅": "villa",
    "平房": "house",
    "宿舍": "dormitory",
    "商业": "commercial",
    "办公": "office",
    "学校": "school",
    "医院": "hospital",
    "工业": "industrial",
    "厂房": "industrial",
    "公共": "public",
}

POLYGONAL = ("buildings", "compounds", "boundaries")
LEVEL_CODE_LENGTH = {"district": 6, "street": 9, "community": 12}
#: names of administrative levels, the statistics bureau's (county/town/village) among them
LEVEL_WORDS = {
    **{w: "district" for w in ("district", "county", "区", "县", "区县", "市辖区")},
    **{w: "street" for w in ("street", "town", "街道", "街道办事处", "乡镇", "乡", "镇")},
    **{w: "community" for w in ("community", "village", "社区", "居委会", "村", "村委会")},
}
