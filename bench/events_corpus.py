"""Synthetic posts for the event benchmark and tests: incidents that several sources talk about
in their own words, among everyday chatter. Made here from phrase tables (no dataset rows), with
a seed, so a run is repeatable; each post carries the incident it was written about, the truth
clustering is measured against."""
from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import datetime, timedelta

PLACES = ["北京市朝阳区", "吉林省长春市朝阳区", "江苏省南京市鼓楼区", "四川省成都市武侯区", "广东省深圳市南山区",
          "浙江省杭州市西湖区", "湖北省武汉市洪山区", "山东省青岛市黄岛区", "河南省郑州市金水区", "陕西省西安市雁塔区",
          "吉林省白山市临江市", "云南省昆明市五华区", "福建省厦门市思明区", "湖南省长沙市岳麓区", "辽宁省沈阳市和平区"]
KINDS = [
    ("火灾", ["起火", "浓烟", "消防车", "火势", "明火", "疏散", "居民楼", "救援", "烧毁", "火灾"]),
    ("爆炸", ["爆炸", "巨响", "化工厂", "玻璃震碎", "受伤", "冲击波", "封锁", "救护车", "爆炸声", "厂区"]),
    ("坍塌", ["坍塌", "塌方", "工地", "被困", "搜救", "脚手架", "施工", "挖掘机", "围挡", "倒塌"]),
    ("溺水", ["溺水", "落水", "河边", "打捞", "水库", "救生圈", "游泳", "蓝天救援队", "搜寻", "水流"]),
    ("食物中毒", ["食物中毒", "呕吐", "腹泻", "食堂", "送医", "疾控", "学生", "午餐", "留样", "就诊"]),
    ("踩踏", ["踩踏", "拥挤", "人群", "摔倒", "限流", "广场", "跨年", "疏导", "受伤", "通道"]),
    ("山体滑坡", ["山体滑坡", "泥石流", "暴雨", "道路中断", "村民", "转移", "抢险", "落石", "塌方", "山区"]),
]
FILLERS = ["太吓人了", "希望大家平安", "现场视频", "具体原因还在调查", "官方通报来了", "路过看到的", "求扩散",
           "有知道情况的吗", "刚刚发生", "注意安全", "我家就在附近", "祈祷", "已经报警", "围观群众很多"]
CHATTER = [
    "今天去{p}吃了一家火锅，味道不错，排队一小时", "{p}的银杏叶黄了，周末去拍照", "有人知道{p}哪里修手机靠谱吗",
    "推荐一部电影，剧情反转很精彩", "{p}地铁早高峰太挤了", "家里猫咪不爱吃猫粮怎么办", "周末带孩子去{p}公园放风筝",
    "新买的咖啡机做拿铁很好喝", "考研复习到第三轮了，坚持", "{p}最近天气降温，记得加衣服", "分享一个红烧肉做法",
    "二手自行车出售，九成新", "{p}新开的书店环境很好", "跑步打卡第100天", "求推荐性价比高的蓝牙耳机",
]
SYLLABLES = list("凤翔金桂银杏锦绣翠湖龙腾华府阳光紫荆梧桐云海星河蓝湾枫林柳岸松柏青石白沙红旗长虹")
VENUES = ["小区", "化工厂", "中学", "商场", "工地", "水库", "广场", "市场", "仓库", "小学"]
SOURCES = ["city-forum", "news-rss", "weibo-like", "tieba-like", "local-news"]


@dataclass(frozen=True)
class SynthPost:
    id: str
    source: str
    text: str
    at: datetime
    incident: int      # -1: chatter, about no incident


def make_posts(n: int, incidents: int, seed: int = 7, start: datetime | None = None,
               incident_share: float = 0.5, hours: int = 48) -> list[SynthPost]:
    rng = random.Random(seed)
    # Incidents happen all over the country: beyond the fixed places, districts drawn from the
    # gazetteer, so that 500 incidents are not 500 fires in 15 districts.
    from nlp.gazetteer import default_gazetteer

    gaz = default_gazetteer()
    districts = sorted(c for c, d in gaz.divisions.items() if d.level == "district")
    places = PLACES + [gaz.place_of(c).label for c in rng.sample(districts, max(0, incidents - len(PLACES)))]
    start = start or datetime(2026, 12, 1, tzinfo=__import__("datetime").timezone.utc)
    plan = []
    for i in range(incidents):
        kind, vocab = KINDS[i % len(KINDS)]
        place = places[(i * 7 + i // len(KINDS)) % len(places)]
        # Each incident has its own names (the venue, the road), as real reports of one incident
        # share them: two fires in one city are two events.
        venue = rng.choice(SYLLABLES) + rng.choice(SYLLABLES) + rng.choice(VENUES)
        road = rng.choice(SYLLABLES) + rng.choice(SYLLABLES) + rng.choice(["路", "街", "大道"])
        landmark = rng.choice(SYLLABLES) + rng.choice(SYLLABLES) + rng.choice(["桥", "隧道", "码头", "公园"])
        detail = [venue, road, landmark]
        plan.append((place, kind, vocab, detail, rng.uniform(0, hours - 6)))
    out = []
    for j in range(n):
        at_h = rng.uniform(0, hours)
        if incidents and rng.random() < incident_share:
            i = rng.randrange(incidents)
            place, kind, vocab, detail, t0 = plan[i]
            short_place = gaz.place_of(gaz.resolve(place).code).district or place
            short_place = short_place if rng.random() < 0.5 else place
            words = rng.sample(vocab, 4) + rng.sample(detail, 2) + [short_place]
            rng.shuffle(words)
            text = "，".join(words) + "，" + rng.choice(FILLERS)
            at_h = t0 + rng.expovariate(1 / 2.0)
        else:
            i = -1
            text = rng.choice(CHATTER).format(p=rng.choice(PLACES)[:3]) + rng.choice(["", "！", "～", "。"]) + \
                rng.choice(FILLERS[:3] + ["", "哈哈", "有同感吗"])
        out.append(SynthPost(id=f"p{j:07d}", source=rng.choice(SOURCES), text=text,
                             at=start + timedelta(hours=at_h), incident=i))
    return out


def pair_scores(truth: dict[str, int], got: dict[str, str]) -> tuple[float, float, float]:
    """Pairwise precision, recall and F1 of a clustering against the truth, over the incident
    posts (chatter excluded): pairs put in one event that are one incident, over the pairs put in
    one event (precision) and over the pairs that are one incident (recall)."""
    from collections import Counter, defaultdict

    ids = [i for i, t in truth.items() if t >= 0]
    same_truth = Counter(truth[i] for i in ids)
    same_got = Counter(got.get(i, f"none:{i}") for i in ids)
    both: dict[tuple, int] = defaultdict(int)
    for i in ids:
        both[(truth[i], got.get(i, f"none:{i}"))] += 1
    tp = sum(n * (n - 1) / 2 for n in both.values())
    pt = sum(n * (n - 1) / 2 for n in same_truth.values())
    pg = sum(n * (n - 1) / 2 for n in same_got.values())
    if not tp:
        return 0.0, 0.0, 0.0
    p, r = tp / pg, tp / pt
    return p, r, 2 * p * r / (p + r)


def pair_f1(truth: dict[str, int], got: dict[str, str]) -> float:
    return pair_scores(truth, got)[2]
