"""Chinese names for generated places (roads, compounds, communities)."""

ROAD_NAMES = (
    "长江路",
    "黄河路",
    "淮河路",
    "人民路",
    "建设路",
    "解放路",
    "和平路",
    "胜利路",
    "北京路",
    "义安大道",
    "石城大道",
    "翠湖路",
    "铜都大道",
    "长青路",
    "新华路",
    "幸福路",
    "南湖路",
    "书院路",
    "滨江路",
    "学府路",
    "湖城路",
    "天井路",
    "露采路",
    "金山路",
    "五松路",
    "狮子山路",
    "笔架山路",
    "橡树路",
    "梧桐路",
    "银杏路",
)
COMPOUND_PREFIXES = (
    "阳光",
    "翠湖",
    "幸福",
    "和平",
    "金色",
    "碧水",
    "绿城",
    "世纪",
    "锦绣",
    "书香",
    "铜都",
    "滨江",
    "御景",
    "康居",
    "明珠",
    "春晓",
    "丽景",
    "华府",
    "东方",
    "南山",
    "枫林",
    "紫薇",
    "桂花",
    "安居",
)
COMPOUND_SUFFIXES = ("花园", "小区", "家园", "新村", "苑", "公寓", "华庭", "名苑", "雅居", "嘉园")
COMMUNITY_NAMES = (
    "翠湖社区",
    "幸福社区",
    "长江社区",
    "和平社区",
    "书香社区",
    "滨江社区",
    "新华社区",
    "金山社区",
)
SCHOOL_NAMES = ("铜陵市第一中学", "新城小学", "翠湖小学", "实验中学", "长江路小学", "育才小学")
KINDERGARTEN_NAMES = (
    "阳光幼儿园",
    "蓝天幼儿园",
    "小太阳幼儿园",
    "七彩幼儿园",
    "童心幼儿园",
    "金色摇篮幼儿园",
)
#: more place-name stems, for cities of many 社区 and 街道
PLACE_STEMS = (
    "朝阳",
    "东风",
    "红旗",
    "向阳",
    "光明",
    "团结",
    "友谊",
    "新民",
    "文化",
    "振兴",
    "兴华",
    "建国",
    "河西",
    "城东",
    "城南",
    "城西",
    "城北",
    "湖滨",
    "江南",
    "桃源",
    "杏林",
    "梅园",
    "兰亭",
    "竹园",
    "松鹤",
    "青山",
    "白云",
    "金桥",
    "银河",
    "星光",
    "月湖",
    "凤凰",
    "龙山",
    "莲花",
    "荷塘",
    "柳岸",
    "清河",
    "玉泉",
    "紫金",
    "钱塘",
)
#: variants of a stem: 翠湖社区, 翠湖东社区, 翠湖新村社区 ...
STEM_VARIANTS = ("", "东", "西", "南", "北", "中", "新村", "花园", "湖畔", "苑", "里", "坊")


def unique_place_names(n: int, suffix: str, first: tuple[str, ...] = ()) -> list[str]:
    """``n`` distinct names ending in ``suffix`` (``社区``, ``街道``), ``first`` ones first.

    Stems from the road, compound and place lists with directional and other
    variants (a few thousand names); past those, numbered names (``第1201社区``).
    Deterministic: the same ``n`` gives the same list.
    """
    stems = list(
        dict.fromkeys(
            [
                *COMPOUND_PREFIXES,
                *(r.removesuffix("大道").removesuffix("路") for r in ROAD_NAMES),
                *PLACE_STEMS,
            ]
        )
    )
    names = list(dict.fromkeys(first))
    seen = set(names)
    candidates = (f"{stem}{variant}{suffix}" for variant in STEM_VARIANTS for stem in stems)
    for name in candidates:
        if len(names) >= n:
            break
        if name not in seen:
            seen.add(name)
            names.append(name)
    k = len(names)
    while len(names) < n:
        k += 1
        name = f"第{k}{suffix}"
        if name not in seen:
            seen.add(name)
            names.append(name)
    return names[:n]
