"""The Analyzer labels harmful posts by category, leaves counter-speech and clean text alone,
points at the original text, and never lets one bad text fail a batch."""
import json
import random
from pathlib import Path

import pytest

from nlp.analysis import Analysis
from nlp.analyzer import MAX_CHARS, PII_DETECTIONS, Analyzer, ModelInput, choose_primary, combine_scores
from nlp.categories import HARM_CATEGORIES, NONE
from nlp.lexicon import Lexicon

DATASET = Path(__file__).resolve().parents[3] / "shared" / "datasets" / "labelled_posts.jsonl"


@pytest.fixture(scope="module")
def analyzer():
    # rules only: these tests pin the rule side, whatever model happens to be bundled
    return Analyzer(Lexicon.load())


HARMFUL = [
    ("self_harm", "我真的不想活了，已经攒好了安眠药，永别了"),
    ("self_harm", "有没有人约死，想找人一起烧炭"),
    ("violence_terror", "你再敢来我就炸了你家，等着收尸吧"),
    ("violence_terror", "明天去炸学校，报复社会"),
    ("weapons", "出钢珠枪 气狗 配件全 同城面交 私聊"),
    ("weapons", "雷管 炸药 有货 加V详谈"),
    ("drugs", "有冰 溜冰工具 同城 面交 加我"),
    ("drugs", "葉子 出货 邮寄 扣扣幺三八一二三四五六七"),
    ("fraud", "刷单返利，动动手指日入500，加薇❤信了解"),
    ("fraud", "您涉嫌洗钱，请将资金转入安全账户配合调查"),
    ("gambling", "菠菜平台 注册送彩金 上分下分秒到 加V：abc12345"),
    ("gambling", "加拿大28 百家乐 真人娱乐城 回水高 t.me/bet_vip"),
    ("porn_sexual", "楼凤 上门服务 全套 加微信"),
    ("porn_sexual", "同城约p 空虚寂寞 私我"),
    ("illicit_ads", "抖音点赞员 一单一结 日结 加我"),
    ("illicit_ads", "征信修复 黑户漂白 花呗套现 详情私"),
    ("pii_leak", "开盒 这人身份证11010519491231002X 家住北京市朝阳区建国路88号3栋2单元301室"),
    ("pii_leak", "人肉搜索出来了，她的电话13812345678，老家地址都有"),
    ("abuse_hate", "你个傻逼，操你妈的狗杂种"),
    ("abuse_hate", "死基佬都滚出去"),
]


@pytest.mark.parametrize("category, text", HARMFUL)
def test_harmful_posts_get_the_right_primary(analyzer, category, text):
    a = analyzer.analyse(text)
    assert a.primary == category, (a.labels, a.scores)


NOT_HARM = [
    "警惕刷单返利诈骗！国家反诈中心提醒：凡是刷单都是诈骗",
    "谨防冒充公检法诈骗，所谓安全账户都是骗局",
    "禁毒宣传：珍爱生命，远离毒品，拒绝冰毒",
    "国际禁毒日，缉毒警察辛苦了",
    "笑死我了，这个视频太好笑了",
    "今天加班累死了，想死你们了",
    "如果你有自杀的念头，请拨打希望24热线 400-161-9995",
    "打击网络赌博，远离赌博，珍惜家庭",
    "这家酒店服务很好，房间干净，按摩浴缸不错，前台电话13812345678",
    "菠菜炒鸡蛋很好吃，外卖送得很快",
]


@pytest.mark.parametrize("text", NOT_HARM)
def test_counter_speech_hyperbole_and_clean_text_are_not_flagged(analyzer, text):
    a = analyzer.analyse(text)
    assert a.labels == (), (a.labels, a.scores)
    assert a.primary == NONE


def test_a_post_can_carry_two_labels_listed_most_severe_first(analyzer):
    a = analyzer.analyse("博彩平台 百家乐 注册送彩金 开盒曝光：身份证11010519491231002X")
    assert {"gambling", "pii_leak"} <= set(a.labels)
    assert a.primary == choose_primary(a.labels, a.scores)
    assert list(a.labels) == sorted(a.labels, key=HARM_CATEGORIES.index)


# --- the primary label: best supported, severity breaks near-ties ----------------------------

def test_the_primary_is_the_highest_scoring_label_not_the_most_severe():
    assert choose_primary(("fraud", "gambling"), {"fraud": 0.80, "gambling": 0.98}) == "gambling"


def test_a_near_tie_goes_to_the_more_severe_label():
    assert choose_primary(("self_harm", "abuse_hate"), {"self_harm": 0.62, "abuse_hate": 0.65}) == "self_harm"
    assert choose_primary(("fraud", "gambling"), {"fraud": 0.96, "gambling": 1.0}) == "fraud"


def test_no_labels_means_no_primary_whatever_the_scores():
    assert choose_primary((), {"fraud": 0.49}) == NONE


@pytest.mark.parametrize("text", [
    "百家乐 稳赚不赔 导师带单 加V abc123",
    "时时彩计划群 导师带单 稳赚不赔 私聊",
    "PC28 稳赚不赔 日入2000 加我微信",
])
def test_a_betting_ad_using_investment_words_is_gambling_and_not_fraud(analyzer, text):
    a = analyzer.analyse(text)
    assert a.primary == "gambling", (a.labels, a.scores)
    assert "fraud" not in a.labels, a.scores


@pytest.mark.parametrize("text", ["稳赚不赔 导师带单 加V abc123", "荐股群 稳赚不赔 带单 加我"])
def test_investment_words_without_a_betting_game_stay_fraud(analyzer, text):
    a = analyzer.analyse(text)
    assert a.primary == "fraud", (a.labels, a.scores)
    assert "gambling" not in a.labels, a.scores


def test_the_alert_still_leads_with_the_most_severe_label_while_the_primary_follows_the_score():
    from datetime import datetime, timezone

    from patrol.alerts import evaluate_rules, load_rules
    from patrol.posts import RawPost

    now = datetime(2026, 11, 24, 8, 0, tzinfo=timezone.utc)
    an = Analyzer(Lexicon.load(), model=_FixedModel({"fraud": 0.7, "gambling": 0.99}))
    a = an.analyse("一条帖子")
    raw = RawPost(source="forum", url="https://bbs.example.cn/t/2", external_id="2", text="一条帖子",
                  fetched_at=now, content_sha256="cd" * 32)
    alert = evaluate_rules(raw, a, load_rules(), now)
    assert a.primary == "gambling"
    assert alert.category == "fraud" and alert.labels == ("fraud", "gambling")


def test_a_model_reading_of_fraud_resting_on_betting_talk_is_scaled_down_too():
    an = Analyzer(Lexicon.load(), model=_FixedModel({"fraud": 0.9, "gambling": 0.9}))
    betting = an.analyse("百家乐 稳赚不赔 加V abc123")
    pitch = an.analyse("稳赚不赔 加V abc123")
    assert betting.labels == ("gambling",) and betting.primary == "gambling", betting.scores
    assert "fraud" in pitch.labels, pitch.scores


class _FixedModel:
    version = "fixed"
    thresholds = {c: 0.5 for c in HARM_CATEGORIES}

    def __init__(self, probs):
        self.probs = probs

    def predict(self, batch):
        return [{c: self.probs.get(c, 0.0) for c in HARM_CATEGORIES} for _ in batch]


# --- posts reviewers found misread: counter-speech, helplines, attempts, new scams ---------

@pytest.mark.parametrize("text", [
    "千万别信什么稳赚不赔的投资，都是骗局",
    "骗子常说“刷单返利动动手指就能赚钱”，大家别上当",
    "这是诈骗！自称客服让你共享屏幕退款的都是骗子",
    "别上当，所谓的黑户可贷都是先收手续费的骗子",
    "有人私信我说带我炒股荐牛股，千万别信",
    "停息挂账的广告千万别信，交了钱就拉黑",
])
def test_warnings_that_quote_a_scam_are_not_fraud(analyzer, text):
    a = analyzer.analyse(text)
    assert a.labels == (), (a.labels, a.scores)


@pytest.mark.parametrize("text", [
    "如果你正在经历痛苦，请拨打心理援助热线12356，或希望24热线400-161-9995",
    "全国统一心理援助热线12356正式开通，24小时有人接听",
    "心情不好的时候可以打12356，有人会听你说",
])
def test_a_helpline_post_is_neither_fraud_nor_self_harm(analyzer, text):
    a = analyzer.analyse(text)
    assert "fraud" not in a.labels and "self_harm" not in a.labels, a.scores


@pytest.mark.parametrize("text", [
    "我昨晚吃了一整瓶安眠药，醒来在医院",
    "今天又割腕了，看着血流下来才觉得平静",
    "买好了炭，今晚关好门窗烧炭",
    "现在站在楼顶，风好大，再见了",
    "遗书已经写好放在抽屉里了",
    "真的不想活了，没有人在乎我",
    "刚吞了几十片安眠药，对不起爸妈",
])
def test_a_suicide_attempt_or_plan_is_self_harm(analyzer, alert_thresholds, text):
    a = analyzer.analyse(text)
    assert a.primary == "self_harm", (a.labels, a.scores)
    assert a.scores["self_harm"] >= alert_thresholds["self_harm"] + 0.05, a.scores


@pytest.mark.parametrize("text", [
    "我好累啊想睡觉", "笑死，今天累死了", "加班到十点，累死了，只想躺平", "好想死你们啊，下周回家见",
    "老人误喝了农药，已送医抢救",
])
def test_tiredness_hyperbole_and_missing_someone_are_not_self_harm(analyzer, text):
    a = analyzer.analyse(text)
    assert "self_harm" not in a.labels, a.scores


@pytest.mark.parametrize("category, text", [
    ("fraud", "荐股群 带你抓涨停 内幕消息 免费进群"),
    ("fraud", "老师每天免费推荐牛股，带你抓涨停，私我"),
    ("fraud", "网贷逾期？专业停息挂账，只还本金，私信"),
    ("fraud", "停息挂账 债务优化 包成功 不成功不收费"),
    ("illicit_ads", "收闲置银行卡 一张800 当天结 滴滴我"),
    ("illicit_ads", "有闲置电话卡的来，高价收"),
    ("porn_sexual", "资源群 懂的来"),
])
def test_short_real_world_scams_and_ads_are_caught(analyzer, alert_thresholds, category, text):
    a = analyzer.analyse(text)
    assert a.primary == category, (a.labels, a.scores)
    assert a.scores[category] >= alert_thresholds[category] + 0.05, a.scores


@pytest.mark.parametrize("text", [
    "信用卡逾期了两个月，怎么跟银行协商还款？",
    "律师事务所周六免费法律咨询，债务纠纷、劳动仲裁都可以来，电话13912345678",
    "这只股票昨天涨停了，可惜我没买",
])
def test_debt_questions_legal_advice_and_market_talk_are_not_fraud(analyzer, text):
    a = analyzer.analyse(text)
    assert a.labels == (), (a.labels, a.scores)


def test_evidence_points_at_the_original_text_and_the_trail_says_why(analyzer):
    raw = "你好 刷单返利，加薇❤信 abc12345"
    a = analyzer.analyse(raw)
    assert "fraud" in a.labels
    for e in a.evidence:
        assert raw[e.start:e.end] == e.text
    contact = next(e for e in a.evidence if e.term == "加微信")
    assert contact.text == "加薇❤信"
    step = next(t for t in a.trail if t.start < contact.end and t.end > contact.start)
    assert (step.original, step.replacement) == ("薇❤信", "微信")


def test_scores_cover_every_category_and_stay_in_range(analyzer):
    a = analyzer.analyse("楼凤 上门服务 全套 加微信 百家乐 冰毒 钢珠枪 傻逼")
    assert set(a.scores) == set(HARM_CATEGORIES)
    assert all(0.0 <= s <= 1.0 for s in a.scores.values())


def test_the_analysis_round_trips_through_json(analyzer):
    a = analyzer.analyse("刷单返利，加薇❤信了解")
    assert Analysis.from_dict(json.loads(json.dumps(a.to_dict()))) == a


def test_a_batch_with_garbage_returns_one_analysis_per_text(analyzer):
    texts = ["", "\x00\x01\x02\xff", b"\xff\xfe\x00bytes", None, "\ud800 lone surrogate", "🙂" * 500,
             "مرحبا Привет こんにちは 안녕", "刷单返利 加我", 12345]
    results = analyzer.analyse_batch(texts)
    assert len(results) == len(texts)
    assert results[7].primary == "fraud"
    assert all(r.primary in HARM_CATEGORIES + (NONE,) for r in results)


def test_a_one_megabyte_text_is_cut_and_says_so(analyzer):
    text = "刷单返利 加我 " + "好" * 1_000_000
    a = analyzer.analyse(text)
    assert a.primary == "fraud"
    assert len(a.normalised) <= MAX_CHARS
    cut = [t for t in a.trail if t.kind == "truncated"]
    assert cut and cut[0].start == MAX_CHARS and cut[0].end == len(text)


def test_the_model_version_names_the_lexicon_version(analyzer):
    assert analyzer.model_version == f"rules-{analyzer.lexicon.version}"


def test_reloading_lexicons_picks_up_a_changed_file(tmp_path):
    (tmp_path / "drugs.txt").write_text("# version: 1\n冰毒\t0.9\n", encoding="utf-8")
    an = Analyzer(Lexicon.load(tmp_path))
    assert an.analyse("新货到了").primary == NONE
    before = an.model_version
    (tmp_path / "drugs.txt").write_text("# version: 2\n冰毒\t0.9\n新货\t0.9\n", encoding="utf-8")
    an.reload_lexicons()
    assert an.analyse("新货到了").primary == "drugs"
    assert an.model_version != before


class FakeModel:
    version = "m-test"
    thresholds = {c: 0.4 for c in HARM_CATEGORIES}

    def __init__(self, fail_on=None):
        self.fail_on = fail_on
        self.seen = []

    def predict(self, batch):
        self.seen.extend(batch)
        if self.fail_on is not None and any(self.fail_on in b.text for b in batch):
            raise RuntimeError("boom")
        return [{"abuse_hate": 0.9 if "蠢" in b.text else 0.05, **{c: 0.0 for c in HARM_CATEGORIES if c != "abuse_hate"}}
                for b in batch]

    def explain(self, batch):
        return [{"abuse_hate": (("char:蠢", 1.2),)} for _ in batch]


def test_a_model_plugs_in_and_its_labels_and_features_show(analyzer):
    model = FakeModel()
    an = Analyzer(analyzer.lexicon, model=model)
    a = an.analyse("你这个人真蠢")
    assert a.primary == "abuse_hate"
    assert a.features["abuse_hate"] == (("char:蠢", 1.2),)
    assert an.model_version == f"m-test+rules-{analyzer.lexicon.version}"
    assert isinstance(model.seen[0], ModelInput) and model.seen[0].normalised == "你这个人真蠢"


def test_a_model_that_fails_on_one_text_costs_only_that_texts_model_score(analyzer):
    an = Analyzer(analyzer.lexicon, model=FakeModel(fail_on="坏"))
    results = an.analyse_batch(["你真蠢", "坏 刷单返利 加我", "你好"])
    assert results[0].primary == "abuse_hate"
    assert results[1].primary == "fraud"  # rules still work for the text that broke the model
    assert results[2].primary == NONE


def test_counter_speech_vetoes_the_model_too():
    assert combine_scores(rule=0.0, model=0.99, factor=0.1) < 0.5
    assert combine_scores(rule=0.0, model=0.99, factor=1.0) > 0.9
    assert combine_scores(rule=0.7, model=None, factor=1.0) == 0.7
    # a model calibrated to flag at 0.3 flags here at 0.5
    assert combine_scores(rule=0.0, model=0.3, factor=1.0, model_threshold=0.3) == pytest.approx(0.5)


def test_a_missing_model_file_is_a_clear_error():
    with pytest.raises(FileNotFoundError, match="model file"):
        Analyzer.default(model_path="/nonexistent/model.skops")


@pytest.mark.slow
@pytest.mark.skipif(not DATASET.is_file(), reason="shared dataset not present")
def test_clean_reviews_are_flagged_at_most_one_percent(analyzer):
    rows = []
    with DATASET.open(encoding="utf-8") as f:
        for line in f:
            if '"chinesenlpcorpus_reviews"' not in line:
                continue
            r = json.loads(line)
            if r["dataset"] == "chinesenlpcorpus_reviews" and r["split"] == "dev":
                rows.append(r["text"])
    sample = random.Random(20260501).sample(rows, 2000)
    flagged = [t for t, a in zip(sample, analyzer.analyse_batch(sample)) if a.labels]
    assert len(flagged) / len(sample) <= 0.01, flagged[:10]


# --- variants of the obfuscated posts the rules used to miss --------------------------------
# Not the demo site's strings: rewrites with other words, separators and orders, so that the
# lexicon is general rather than fitted to one post. Each must reach the alert rule's threshold.

VARIANTS = [
    ("gambling", "菠 菜大平台 信誉保障 提款秒到 加V：abc_1234"),
    ("gambling", "老牌菠.菜网站，充值秒到，带你回本，私聊"),
    ("gambling", "大额菠-菜平台，注册就送彩金，出款快"),
    ("illicit_ads", "高价回收 二类银行卡 手机卡 对公账户 当天结款 私聊"),
    ("illicit_ads", "求购营业执照 对公户 价格好说 加我"),
    ("illicit_ads", "长期收购一类卡四件套，有意者私我"),
    ("illicit_ads", "出租 银行卡 一张月入3000 加我详谈"),
    ("self_harm", "对不起爸妈，我真的撑不下去了，今晚就走，再见了"),
    ("self_harm", "我已经决定了，明天就结束自己，安眠药准备好了"),
    ("self_harm", "这是我最后一条动态，谢谢曾经对我好的人"),
    ("self_harm", "有没有人愿意组团去死，找个地方一起烧炭"),
    ("self_harm", "活着太累了，我打算今晚去跳河"),
    ("abuse_hate", "关你屁事，滚远点，老不死的"),
    ("abuse_hate", "你这种废物少在这里叫"),
    ("abuse_hate", "这种女人真是下贱，恶心"),
    ("abuse_hate", "男人全是畜生，没一个好东西"),
    ("abuse_hate", "你们这帮垃圾，滚犊子"),
]


@pytest.fixture(scope="module")
def alert_thresholds():
    from patrol.alerts import load_rules

    return {r.category: r.min_score for r in load_rules() if r.source is None}


@pytest.mark.parametrize("category, text", VARIANTS)
def test_obfuscated_variants_reach_the_alert_threshold(analyzer, alert_thresholds, category, text):
    a = analyzer.analyse(text)
    assert category in a.labels, (a.labels, a.scores)
    # clearly above, not on the edge: a score that only just reaches 0.5 is one lexicon edit from silence
    assert a.scores[category] >= alert_thresholds[category] + 0.05, a.scores


LOOKALIKES_OF_HARM = [
    "我和男人都喜欢看球",
    "冰箱到货了，师傅下午来装",
    "今天开盘价涨了",
    "家电维修 上门服务 电话联系",
    "女人都喜欢漂亮衣服吧",
    "回收旧手机，价格公道",
    "菜市场的菠菜 新鲜又便宜",
    "今晚就走了，明天回老家过年",
    "银行卡丢了，赶紧去挂失",
    "对公账户怎么开，需要营业执照吗",
    "蛋白粉和冰淇淋都买了",
    "这条路口交通很乱",
    "最后一次发帖求助：电脑蓝屏怎么办",
    "收卡是违法犯罪，出租银行卡会被判帮信罪，千万别",
    "本版禁止发布博彩、色情、枪支、毒品等违法信息",
    "刚接到一个电话说是客服，要我屏幕共享，总觉得不对劲",
]


@pytest.mark.parametrize("text", LOOKALIKES_OF_HARM)
def test_clean_posts_that_share_words_with_harm_are_not_flagged(analyzer, text):
    a = analyzer.analyse(text)
    assert a.labels == (), (a.labels, a.scores)


# --- minors ---------------------------------------------------------------------------------

@pytest.mark.parametrize("text", [
    "萝莉资源 网盘链接 私聊",
    "初中生 援交 上门服务 加微信",
    "学生妹 全套 包夜 加V：abc12345",
])
def test_a_sexual_post_involving_a_minor_carries_the_minor_marker(analyzer, text):
    a = analyzer.analyse(text)
    assert "porn_sexual" in a.labels
    marks = [e for e in a.evidence if e.term.startswith("minor:")]
    assert marks and all(e.category == "porn_sexual" for e in marks)
    assert all(text[e.start:e.end] == e.text for e in marks)


@pytest.mark.parametrize("text", ["初中生数学辅导，暑假班招生", "楼凤 上门服务 全套 加微信"])
def test_no_minor_marker_without_both_a_minor_and_a_sexual_label(analyzer, text):
    a = analyzer.analyse(text)
    assert not any(e.term.startswith("minor") for e in a.evidence)


def test_the_minor_marker_escalates_the_alert_to_critical_with_a_15_minute_deadline(analyzer):
    from datetime import datetime, timedelta, timezone

    from patrol.alerts import evaluate_rules, load_rules
    from patrol.posts import RawPost

    now = datetime(2026, 11, 24, 8, 0, tzinfo=timezone.utc)
    rules = load_rules()

    def alert_for(text):
        raw = RawPost(source="forum", url="https://bbs.example.cn/t/1", external_id="1", text=text,
                      fetched_at=now, content_sha256="ab" * 32)
        return evaluate_rules(raw, analyzer.analyse(text), rules, now)

    minor = alert_for("萝莉资源 网盘链接 私聊")
    adult = alert_for("楼凤 上门服务 全套 加微信")
    assert (minor.severity, minor.due_at - now) == ("critical", timedelta(minutes=15))
    assert (adult.severity, adult.due_at - now) == ("medium", timedelta(hours=4))


# --- reloading lexicons ---------------------------------------------------------------------

def test_a_broken_lexicon_file_on_reload_keeps_the_old_lexicon_and_names_every_problem(tmp_path):
    from nlp.lexicon import LexiconError

    (tmp_path / "drugs.txt").write_text("# version: 1\n冰毒\t0.9\n", encoding="utf-8")
    an = Analyzer(Lexicon.load(tmp_path))
    version = an.model_version
    (tmp_path / "drugs.txt").write_text("# version: 2\n冰毒\t0.9\n新货\tlots\n麻古\t0.9\tshiny\n", encoding="utf-8")
    with pytest.raises(LexiconError) as err:
        an.reload_lexicons()
    assert "drugs.txt:3" in str(err.value) and "drugs.txt:4" in str(err.value)
    assert len(err.value.problems) == 2
    assert an.model_version == version
    assert an.analyse("冰毒").primary == "drugs" and an.analyse("麻古").primary == NONE


def test_a_reload_with_problems_can_be_forced_and_skips_the_broken_lines(tmp_path):
    (tmp_path / "drugs.txt").write_text("# version: 1\n冰毒\t0.9\n", encoding="utf-8")
    an = Analyzer(Lexicon.load(tmp_path))
    (tmp_path / "drugs.txt").write_text("# version: 2\n冰毒\t0.9\n麻古\t0.9\n新货\tlots\n", encoding="utf-8")
    an.reload_lexicons(allow_problems=True)
    assert an.analyse("麻古").primary == "drugs"
    assert [p.line for p in an.lexicon.problems] == [4]


def test_a_vanished_lexicon_directory_on_reload_keeps_the_old_lexicon(tmp_path):
    d = tmp_path / "lex"
    d.mkdir()
    (d / "drugs.txt").write_text("# version: 1\n冰毒\t0.9\n", encoding="utf-8")
    an = Analyzer(Lexicon.load(d))
    (d / "drugs.txt").unlink()
    d.rmdir()
    with pytest.raises(FileNotFoundError, match="lexicon directory"):
        an.reload_lexicons()
    assert an.analyse("冰毒").primary == "drugs"


def test_analyses_running_during_reloads_each_see_one_whole_lexicon(tmp_path):
    """Two lexicon versions that disagree on every term: an analysis that saw half of each would
    label a text with the term of one version and carry the version string of the other."""
    import threading

    old = "# version: old\n" + "".join(f"旧词{i}\t0.9\n" for i in range(300))
    new = "# version: new\n" + "".join(f"新词{i}\t0.9\n" for i in range(300))
    (tmp_path / "drugs.txt").write_text(old, encoding="utf-8")
    an = Analyzer(Lexicon.load(tmp_path))
    versions = {}
    for body in (old, new):
        (tmp_path / "drugs.txt").write_text(body, encoding="utf-8")
        versions[body] = f"rules-{Lexicon.load(tmp_path).version}"
    (tmp_path / "drugs.txt").write_text(old, encoding="utf-8")
    texts = ["旧词7", "新词7"] * 50
    bad: list = []
    stop = threading.Event()

    def analyse_forever():
        while not stop.is_set():
            for text, a in zip(texts, an.analyse_batch(texts)):
                matched_old = text.startswith("旧") and a.primary == "drugs"
                matched_new = text.startswith("新") and a.primary == "drugs"
                if (matched_old and a.model_version != versions[old]) or (matched_new and a.model_version != versions[new]):
                    bad.append((text, a.model_version))

    workers = [threading.Thread(target=analyse_forever) for _ in range(2)]
    for w in workers:
        w.start()
    try:
        for i in range(20):
            (tmp_path / "drugs.txt").write_text(new if i % 2 == 0 else old, encoding="utf-8")
            an.reload_lexicons()
    finally:
        stop.set()
        for w in workers:
            w.join()
    assert bad == []


# --- whole corpora --------------------------------------------------------------------------

DEMO = Path(__file__).resolve().parents[2] / "demosite" / "content"


def _demo_items():
    items = []
    for line in (DEMO / "threads.jsonl").read_text(encoding="utf-8").splitlines():
        for floor in json.loads(line)["floors"]:
            items.append((floor[1], floor[2]))
    for line in (DEMO / "news.jsonl").read_text(encoding="utf-8").splitlines():
        item = json.loads(line)
        items.append((item["label"], item["title"] + "\n" + "\n".join(item["body"])))
    return items


@pytest.mark.skipif(not (DEMO / "threads.jsonl").is_file(), reason="demo content not present")
def test_the_demo_sites_harmful_floors_alert_and_its_clean_floors_do_not(analyzer, alert_thresholds):
    items = _demo_items()
    results = analyzer.analyse_batch([t for _, t in items])
    alerted = [tuple(c for c in a.labels if a.scores[c] >= alert_thresholds[c]) for a in results]
    missed = [(label, text) for (label, text), got in zip(items, alerted) if label != NONE and label not in got]
    clean = [(text, got) for (label, text), got in zip(items, alerted) if label == NONE]
    flagged = [(text, got) for text, got in clean if got]
    assert missed == []
    assert len(flagged) <= 0.02 * len(clean), flagged


def _dataset_texts(dataset, category, split=None):
    rows = []
    with DATASET.open(encoding="utf-8") as f:
        for line in f:
            if f'"{dataset}"' not in line:
                continue
            r = json.loads(line)
            if r["dataset"] == dataset and r["category"] == category and (split is None or r["split"] == split):
                rows.append(r["text"])
    return rows


@pytest.mark.slow
@pytest.mark.skipif(not DATASET.is_file(), reason="shared dataset not present")
@pytest.mark.parametrize("dataset", ["telecom_fraud_texts", "cold"])
def test_everyday_sms_and_inoffensive_comments_alert_at_most_one_percent(analyzer, alert_thresholds, dataset):
    texts = _dataset_texts(dataset, "none")
    texts = random.Random(20260502).sample(texts, min(4000, len(texts)))
    alerted = [t for t, a in zip(texts, analyzer.analyse_batch(texts))
               if any(a.scores[c] >= alert_thresholds[c] for c in a.labels)]
    assert len(alerted) / len(texts) <= 0.01, alerted[:10]


def test_an_address_and_a_phone_in_a_job_ad_are_the_employers_not_a_leak(analyzer):
    ad = analyzer.analyse("招聘餐厅服务员两名 包吃住 地址杭州市建设路88号 电话13957216480")
    assert "pii_leak" not in ad.labels
    # the phone number does not count towards a leak beside an address alone
    assert ad.scores["pii_leak"] <= PII_DETECTIONS["address"]
    doxx = analyzer.analyse("人肉出来了 这个渣男住杭州市建设路88号 电话13957216480")
    assert "pii_leak" in doxx.labels


def test_a_leaked_number_is_the_primary_only_when_nothing_else_is_found():
    assert choose_primary(("gambling", "pii_leak"), {"gambling": 0.7, "pii_leak": 0.99}) == "gambling"
    assert choose_primary(("pii_leak",), {"pii_leak": 0.9}) == "pii_leak"
