"""Vocabulary and text generators: nicknames, bios, note titles, comments, names.

Organic text is assembled from many independent parts, so it is varied and
rarely repeats; planted text comes from a handful of templates with small edits
(a prefix, "真的" or not, punctuation, an emoji), as water-army scripts produce.
Some organic text deliberately overlaps with planted text (default nicknames,
genuine brand praise, organic users asking for a link) so that a keyword rule
alone produces false positives. All brand and agency names are invented.
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from ringscope.simulate.encode import digit_matrix, hex_matrix, join, pick, strings_from_matrix, with_prefix

# ---------------------------------------------------------------- nicknames

CN_PREFIX = ["小", "阿", "大", "老", "一只", "两只", "是", "叫我", "", "", "", "胖", "甜", "酷", "野生", "超级", "暴躁", "快乐"]
CN_NOUN = [
    "橘子", "鱼", "猫", "熊", "兔叽", "桃子", "柚子", "芒果", "团子", "丸子", "布丁", "奶茶", "可乐",
    "星星", "月亮", "云朵", "小鹿", "企鹅", "狐狸", "喵", "汪", "土豆", "番茄", "栗子", "糯米", "汤圆",
    "西瓜", "荔枝", "椰子", "柠檬", "花卷", "饺子", "螺蛳粉", "薯条", "奶昔", "松鼠", "海豚", "鲸鱼",
    "草莓", "蓝莓", "葡萄", "樱桃", "菠萝", "榴莲", "年糕", "豆包", "馒头", "包子", "锅巴", "麻薯", "泡芙",
    "蛋挞", "可颂", "吐司", "拿铁", "抹茶", "乌龙", "柠檬茶", "羊驼", "柴犬", "柯基", "仓鼠", "刺猬", "考拉",
    "水母", "章鱼", "海獭", "青蛙", "蘑菇", "向日葵", "茉莉", "栀子", "雏菊", "桂花", "晚风", "山茶", "鲸落",
]
CN_SUFFIX = ["", "", "", "", "酱", "呀", "的日常", "不吃香菜", "爱吃鱼", "w", "子", "同学", "本人", "啊", "er", "宝",
             "吖", "崽", "君", "儿", "_", "不加糖", "今天也很乖", "睡不醒", "在减肥", "成精了", "不熬夜"]
CN_ADJ = [
    "爱吃草莓的", "不吃香菜的", "会发光的", "努力营业的", "早睡早起的", "想暴富的", "爱旅行的",
    "熬夜冠军的", "佛系的", "元气满满的", "不想上班的", "在减肥的", "爱喝咖啡的", "碎碎念的",
    "想去海边的", "会做饭的", "不会游泳的", "偷偷发胖的", "爱看书的", "晒不黑的", "起床困难的", "迷路的",
    "温柔的", "野蛮生长的", "慢吞吞的", "不吃早饭的", "爱跳舞的", "喜欢下雨的", "失眠的", "贪吃的",
]
SURNAMES = list("王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘蒋蔡余杜叶程苏魏吕丁沈")
GIVEN = list("小一子思雨晨欣怡佳琪梦涵若悦可心安然宁静萌萌朵朵乐乐多多嘉婷慧敏晓月亦舒语嫣诗雯芷若书瑶")
NAME_TAIL = ["", "", "", "", "呀", "同学", "_", "er", "酱", "吖", "Official", "的小号", "在上海", "在杭州", "在成都", "在北京"]
LATIN_NAME = [
    "Luna", "Cathy", "momo", "Jenny", "Kiki", "Yuki", "Coco", "Amber", "Vivian", "Iris", "Nana",
    "Lily", "Mia", "Zoe", "Leo", "Kevin", "Eric", "Jason", "Tina", "Sunny", "Echo", "Ivy", "Grace",
    "Doris", "Bella", "Ruby", "Alice", "Hazel", "Oscar", "Max", "Ken", "Jojo", "Lulu", "Mimi",
    "Cindy", "Wendy", "Sherry", "Fiona", "Joyce", "Peggy", "Rainy", "Summer", "Autumn", "Winnie", "Chloe",
    "Emma", "Olivia", "Ella", "Nina", "Sophie", "Yoyo", "Didi", "Bobo", "Xixi", "Tutu", "Kaka", "Jerry",
    "Tom", "Andy", "Bruce", "Cherry", "Apple", "Peach", "Mango", "Candy", "Sugar", "Honey", "Miko", "Riri",
]
LATIN_TAIL = ["", "", "", "_", ".", "_liu", "wang", "_zhang", "chen", "Li", "zzz", "_sh", "bj", "x", "_official",
              "_huang", "zhou", "_wu", "xu", "_lin", "lee", ".y", "_cn", "yy", "Q", "__"]
NICK_EMOJI = ["", "", "", "", "", "", "", "", "🍊", "🌸", "✨", "🐱", "🌙", "🍑", "🌈", "🍀", "🐰", "☁️", "🌷", "🫧"]
PHRASE_NICKS = ["今天也要加油鸭", "快乐小狗", "人间清醒", "一定会好起来", "努力搞钱", "睡到自然醒", "好好吃饭",
                "不许熬夜", "想要暴富", "平平无奇", "热爱生活", "快乐星球", "躺平中", "干饭人", "追光的人", "晚安晚安"]


def default_nicknames(rng: np.random.Generator, n: int) -> pa.Array:
    """The platform's default nickname: 小红薯 + 8 hex digits (kept by real idle users and by farms)."""
    return with_prefix("小红薯", hex_matrix(rng.integers(0, 2**32, size=n, dtype=np.uint64), 8))


def _digits(rng: np.random.Generator, n: int, low: int, high: int, width: int) -> pa.Array:
    return strings_from_matrix(digit_matrix(rng.integers(low, high, size=n), width))


def organic_nicknames(rng: np.random.Generator, n: int, keep_default: np.ndarray) -> pa.Array:
    """Varied Chinese, latin and mixed nicknames; accounts in `keep_default` keep the default one."""
    r = lambda seq: pick(seq, rng.integers(0, len(seq), size=n))  # noqa: E731
    some_digits = lambda share: pc.if_else(  # noqa: E731
        pa.array(rng.random(n) < share),
        pc.if_else(pa.array(rng.random(n) < 0.5), _digits(rng, n, 0, 100, 2), _digits(rng, n, 0, 10000, 4)), "")
    styles = [
        join(r(CN_PREFIX), r(CN_NOUN), r(CN_SUFFIX), some_digits(0.25), r(NICK_EMOJI)),
        join(r(CN_ADJ), r(CN_PREFIX), r(CN_NOUN), r(["", "", "", "呀", "酱", "w", "崽"])),
        join(r(LATIN_NAME), r(LATIN_TAIL), some_digits(0.6)),
        join(r(LATIN_NAME), r(["的日常", "的小窝", "在上海", "在成都", "_", "酱", "吖", "的树洞", "不吃辣"]), r(NICK_EMOJI)),
        join(r(CN_NOUN), _digits(rng, n, 0, 10000, 4)),
        join(r(SURNAMES), r(GIVEN), r(GIVEN), r(NAME_TAIL)),
        join(r(PHRASE_NICKS), r(["", "", "的", "_"]), r(CN_NOUN), some_digits(0.3)),
        default_nicknames(rng, n),
    ]
    style = rng.choice(7, size=n, p=[0.3, 0.15, 0.18, 0.08, 0.08, 0.14, 0.07])
    style = np.where(keep_default, 7, style)
    return pc.choose(pa.array(style.astype(np.int8)), *styles)


FARM_STEMS = ["甜心宝贝", "好物分享", "爱生活的小仙女", "种草达人", "美少女", "小可爱", "优选", "生活家", "小甜甜", "开心果"]


def templated_nicknames(rng: np.random.Generator, n: int, style: int) -> pa.Array:
    """One farm's nicknames: a script's template filled with a counter or random digits.

    style 0: 小红薯 + hex (never changed from default); 1: user_8342, user_8343, ... in sequence;
    2: one stem + a zero-padded counter (甜心宝贝001); 3: one stem + two random digits.
    """
    if style == 0:
        return default_nicknames(rng, n)
    if style == 1:
        start = int(rng.integers(1000, 90000))
        width = len(str(start + n))
        return with_prefix("user_", digit_matrix(start + np.arange(n), width))
    stem = FARM_STEMS[int(rng.integers(0, len(FARM_STEMS)))]
    if style == 2:
        start = int(rng.integers(0, 50))
        return with_prefix(stem, digit_matrix(start + 1 + np.arange(n), 3))
    return with_prefix(stem, digit_matrix(rng.integers(0, 100, size=n), 2))


# ---------------------------------------------------------------- bios

BIO_A = [
    "记录生活", "一个普通的打工人", "INFP", "爱猫人士", "分享日常穿搭", "喜欢旅行和美食", "00后",
    "努力变好的一年", "摄影爱好者📷", "宝妈一枚", "健身ing", "考研人", "读书 电影 咖啡", "沪漂",
    "在逃公主", "社恐但话多", "今天也要开心鸭", "护士小姐姐", "程序员", "设计狗", "大学生",
]
BIO_B = ["", "", "上海", "北京", "杭州", "成都", "广州", "深圳", "爱吃", "不定期更新", "🌷", "📍武汉", "南京"]
FARM_BIOS = ["", "", "", "好物分享｜合作私信", "专注种草好物", "每天分享一点点", "有问必答", "精致女孩必备"]


def organic_bios(rng: np.random.Generator, n: int) -> pa.Array:
    """Bios: empty for ~40%, else one or two short self-descriptions."""
    a = pick(BIO_A, rng.integers(0, len(BIO_A), size=n))
    b = pick(BIO_B, rng.integers(0, len(BIO_B), size=n))
    bio = join(a, pc.if_else(pc.equal(b, ""), "", "｜"), b)
    return pc.if_else(pa.array(rng.random(n) < 0.4), "", bio)


def farm_bios(rng: np.random.Generator, n: int) -> pa.Array:
    return pick(FARM_BIOS, rng.integers(0, len(FARM_BIOS), size=n))


# ---------------------------------------------------------------- brands and agencies

CATEGORIES = {
    "美妆": ["口红", "粉底液", "眼影盘", "气垫", "卸妆油"],
    "护肤": ["精华", "面霜", "面膜", "防晒", "水乳"],
    "母婴": ["纸尿裤", "奶粉", "婴儿湿巾", "辅食机"],
    "食品": ["燕麦片", "代餐奶昔", "坚果", "咖啡液", "零食礼包"],
    "数码": ["蓝牙耳机", "充电宝", "投影仪", "电动牙刷"],
    "服饰": ["卫衣", "瑜伽裤", "小白鞋", "羽绒服"],
    "家居": ["香薰", "四件套", "收纳盒", "扫地机"],
    "保健品": ["益生菌", "胶原蛋白", "维生素", "叶黄素"],
    "宠物": ["猫粮", "猫砂", "狗粮", "冻干"],
}
BRAND_A = ["澜", "悦", "素", "禾", "沐", "芙", "雅", "植", "初", "萃", "漾", "若", "熙", "瑶", "柚", "棠", "汐", "屿", "栖", "朵"]
BRAND_B = ["肌", "颜", "然", "净", "研", "萃", "色", "本", "森", "纪", "语", "境", "光", "谷", "集", "里"]
BRAND_C = ["", "", "", "家", "之选", "Lab", "优品", "日记", "工坊"]
CITIES = ["上海", "杭州", "广州", "深圳", "成都", "北京", "长沙", "厦门", "义乌", "郑州"]
AGENCY_WORD = ["星耀", "繁星", "鲸跃", "蜂巢", "青禾", "火种", "千帆", "云图", "橙果", "米粒", "燃点", "微光", "鹿鸣", "白鲸"]


def brand_names(rng: np.random.Generator, n: int) -> list[str]:
    """n distinct invented brand names (澜肌, 沐然Lab, ...)."""
    combos = [a + b for a in BRAND_A for b in BRAND_B if a != b]
    chosen = rng.choice(len(combos), size=min(n, len(combos)), replace=False)
    names = [combos[i] + BRAND_C[int(rng.integers(0, len(BRAND_C)))] for i in chosen]
    while len(names) < n:  # more brands than two-character names: number them
        names.append(f"{combos[len(names) % len(combos)]}{len(names)}")
    return names


def intermediary_name(rng: np.random.Generator, kind: str, registered: bool) -> str:
    word = AGENCY_WORD[int(rng.integers(0, len(AGENCY_WORD)))] + AGENCY_WORD[int(rng.integers(0, len(AGENCY_WORD)))][0]
    city = CITIES[int(rng.integers(0, len(CITIES)))]
    if kind == "mcn":
        return f"{word}MCN" if rng.random() < 0.5 else f"{city}{word}文化传媒有限公司"
    if kind == "agency":
        return f"{city}{word}网络科技有限公司" if registered or rng.random() < 0.5 else f"{word}营销"
    if kind == "studio":
        return f"{word}工作室"
    return f"{word}{int(rng.integers(10, 99))}"


# ---------------------------------------------------------------- note titles

TITLE_A = [
    "我的早八通勤妆", "周末citywalk路线", "一周减脂餐", "出租屋改造", "秋冬穿搭", "小个子穿搭", "新手养猫",
    "考研上岸经验", "平价好物", "旅行vlog", "探店", "自制奶茶", "居家健身", "读书笔记", "周末露营",
    "毕业照", "面试经验", "租房避坑", "海边日落", "夜跑打卡", "手账分享", "烘焙记录", "宝宝辅食",
    "通勤包里有什么", "雨天的咖啡馆", "第一次做饭", "换季护肤心得", "拍照姿势", "一人食", "春日野餐",
]
TITLE_PLACE = ["", "", "", "上海", "杭州", "成都", "大理", "厦门", "北京", "重庆", "长沙", "西安"]
TITLE_TAIL = ["", "", "｜超详细", "｜建议收藏", "｜新手必看", "｜附清单", "干货", "｜真实记录", "！", "～", " 第二弹"]
TITLE_EMOJI = ["", "", "", "✨", "📍", "🌿", "☕️", "🍰", "📷", "💡"]


def organic_titles(rng: np.random.Generator, n: int) -> pa.Array:
    r = lambda seq: pick(seq, rng.integers(0, len(seq), size=n))  # noqa: E731
    return join(r(TITLE_PLACE), r(TITLE_A), r(TITLE_TAIL), r(TITLE_EMOJI))


SEEDING_TITLES = [
    "{b}{p}真实测评｜不吹不黑", "回购无数次的{p}，{b}yyds", "挖到宝了！{b}{p}", "敏感肌亲测{b}{p}",
    "{p}天花板，{b}冲就完了", "后悔没早点用{b}{p}", "学生党平价{p}｜{b}", "空瓶记｜{b}{p}",
]
DECLARED_TITLES = ["{b}{p}体验分享", "和{b}一起过周末", "{b}新品{p}试用", "这次合作的{b}{p}", "{b}{p}上手实测"]
OFFICIAL_TITLES = ["{b}新品上市｜{p}", "{b}{p}使用指南", "{b}官方福利来啦", "{b}{p}答疑", "{b}品牌故事"]


def brand_titles(rng: np.random.Generator, brand: str, category: str, n: int, templates: list[str]) -> list[str]:
    products = CATEGORIES[category]
    return [
        templates[int(rng.integers(0, len(templates)))].format(b=brand, p=products[int(rng.integers(0, len(products)))])
        for _ in range(n)
    ]


# ---------------------------------------------------------------- comments

REACTIONS = [
    "好好看", "太美了吧", "哈哈哈哈哈", "笑死我了", "学到了", "收藏了", "马住", "同款get", "求教程", "请问这是哪里",
    "好羡慕", "绝了", "这个颜色好显白", "楼主好会拍", "蹲一个后续", "真的假的", "我也想去", "已关注", "太可爱了吧",
    "看饿了", "好有氛围感", "链接呢", "在哪里买的", "救命好喜欢", "这也太治愈了", "我哭死", "有被安慰到", "笑不活了",
    "姐妹你好会", "同城吗", "好家伙", "第一次见", "请问衣服是什么牌子", "期待下一期", "小猫好乖", "这个角度绝了",
    "谢谢分享", "抄作业了", "蹲", "太真实了", "一模一样", "我也是这样", "好有道理", "啊啊啊啊", "好想吃",
    "懂了", "不懂就问", "这滤镜是什么", "怎么做到的", "好温柔", "你是我的神", "冲冲冲", "这是什么神仙地方",
]
FOLLOW_UPS = [
    "", "", "", "", "", "！", "～", "。", "哈哈", "，太绝了", "，下次试试", "，我妈也说", "，求更新", "！！",
    "，码住了", "，真的", "，爱了爱了", "，周末就去", "，已经转给朋友了", "，哭了",
]
EMOJI = ["", "", "", "", "", "😂", "😍", "🥹", "👍", "❤️", "😭", "🤣", "✨", "🙏", "😂😂", "[笑哭R]", "[赞R]"]
LATIN_COMMENTS = ["so cute", "omg", "love it", "nice pic", "wow", "slay", "yyds", "hhhh", "plus 1", "cool"]
ORGANIC_BRAND = [
    "我也在用{b}的，还行", "{b}最近是不是涨价了", "感觉{b}一般般", "{b}的客服态度挺好", "之前买过{b}，有点踩雷",
    "{b}yyds", "{b}和别家比怎么样", "{b}的包装好好看",
]
ORGANIC_PRAISE = ["这个真的好用", "回购很多次了", "用过，确实不错", "我也买了，挺好用的", "无限回购", "好用到哭"]


THINGS = ["颜色", "裙子", "发型", "妆容", "构图", "滤镜", "地方", "蛋糕", "猫猫", "包包", "窗帘", "书桌", "耳环", "外套",
          "口红色号", "指甲", "咖啡", "拍照角度", "配色", "房间", "狗狗", "穿搭", "手账", "花束", "早餐", "头像"]
QUALITIES = ["好看", "可爱", "治愈", "高级", "温柔", "显白", "出片", "绝", "有氛围感", "好吃", "精致", "有质感", "好有感觉",
             "戳我", "心动", "舒服", "特别", "减龄"]
OPENERS = ["", "", "", "姐妹", "楼主", "博主", "宝", "天哪", "啊啊", "救命", "哇", "呜呜"]
WHEN = ["昨天", "上周", "去年", "刚刚", "前几天", "周末", "五一", "国庆", "今天"]
DOINGS = ["也去了", "也买了", "也试了", "刚好路过", "也在那边", "也做了一样的", "也拍了", "也踩雷了", "也被种草了"]


def organic_comments(rng: np.random.Generator, n: int, brands: list[str]) -> pa.Array:
    """Varied organic comments from several templates, a few latin, brand talk and genuine praise.

    Millions at a time: the draws are kept as small integers and only the style each
    comment gets is rendered (rather than every style for every comment, then a choice).
    """
    r = lambda seq: Part.draw(rng, seq, n)  # noqa: E731
    opener = Part.opener(r(OPENERS), r(["，", " ", "！", ""]))
    reaction = [opener, r(REACTIONS), r(FOLLOW_UPS), r(EMOJI)]
    about = [opener, r(["这个", "这", "你的", "博主的", ""]), r(THINGS), r(["也太", "好", "真的好", "绝了，好", "超级"]),
             r(QUALITIES), r(["了吧", "", "！", "啊", "了"]), r(EMOJI)]
    question = [opener, r(["请问", "想问下", "求问", ""]), r(THINGS), r(["是在哪里买的", "是什么牌子", "有链接吗", "怎么拍的",
                                                                     "是哪家的", "多少钱呀", "可以分享一下吗"]), r(EMOJI)]
    story = [r(WHEN), r(["我", "我们", "我和朋友", "我妈", ""]), r(DOINGS), r(FOLLOW_UPS), r(EMOJI)]
    latin = [r(LATIN_COMMENTS), r(["", "!", "!!", " 😍", "~"])]
    brand_talk = [r([t.format(b=b) for t in ORGANIC_BRAND for b in brands] or [t.format(b="") for t in ORGANIC_BRAND])]
    praise = [r(ORGANIC_PRAISE), r(["", "", "！", "～", "👍"])]
    kind = rng.choice(7, size=n, p=[0.5, 0.2, 0.11, 0.105, 0.04, 0.03, 0.015])
    return Part.choose(kind, [reaction, about, question, story, latin, brand_talk, praise])


class Part:
    """One drawn piece of a text: its choices and, per text, the index of the one drawn (small integers)."""

    def __init__(self, choices: list[str], index: np.ndarray):
        self.choices, self.index = choices, index

    @classmethod
    def draw(cls, rng: np.random.Generator, choices, n: int) -> "Part":
        """As pick(choices, rng.integers(0, len(choices), n)), the same draw, not yet rendered."""
        index = rng.integers(0, len(choices), size=n)
        return cls(list(choices), index.astype(np.int16 if len(choices) < 2**15 else np.int64))

    @classmethod
    def opener(cls, who: "Part", sep: "Part") -> "Part":
        """who + sep, or nothing when who is empty."""
        choices = [w + s if w else "" for w in who.choices for s in sep.choices]
        return cls(choices, who.index.astype(np.int64) * len(sep.choices) + sep.index)

    def render(self, rows: np.ndarray) -> pa.Array:
        return pick(self.choices, self.index[rows])

    @staticmethod
    def choose(kind: np.ndarray, styles: list[list["Part"]]) -> pa.Array:
        """Text i in style kind[i], its parts joined: pc.choose over the styles, rendering only what is chosen."""
        order = np.argsort(kind, kind="stable")
        bounds = np.searchsorted(kind[order], np.arange(len(styles) + 1))
        pieces = []
        for k, parts in enumerate(styles):
            rows = order[bounds[k]:bounds[k + 1]]
            rendered = [part.render(rows) for part in parts]
            pieces.append(join(*rendered) if len(rendered) > 1 else rendered[0])
        where = np.empty(kind.size, np.int64)
        where[order] = np.arange(kind.size)
        return pa.concat_arrays(pieces).take(pa.array(where))


PRAISE_BODIES = [
    "我用过这个牌子太好用了", "现身说法，特别值得买", "用了一个月皮肤变好了", "回购三次了，闭眼入",
    "绝绝子，谁用谁知道", "这个价格太值了，已经推荐给闺蜜了", "一直在用，效果肉眼可见", "亲测有效，不踩雷",
    "学生党也买得起，太香了", "被种草了，已下单", "质量超好，物流也快", "第二次买了，推荐",
    "{b}我用过，太好用了", "{b}yyds！回购无数次", "一直用{b}，不踩雷", "{b}家的东西就没失望过",
]
PRAISE_PREFIX = ["", "", "", "姐妹们，", "说实话", "本人亲测，", "真心的，", "真的", "哇，"]
PRAISE_PUNCT = ["", "！", "!!", "～", "。", "！！！"]
PRAISE_EMOJI = ["", "👍", "😍", "💯", "❤️", "🔥", "👍👍", "🥰", "[赞R]"]


def praise_comments(rng: np.random.Generator, n: int, brand: str) -> pa.Array:
    """Templated praise with small edits, the staple of a paid comment ring (控评)."""
    r = lambda seq: pick(seq, rng.integers(0, len(seq), size=n))  # noqa: E731
    bodies = [b.format(b=brand) for b in PRAISE_BODIES]
    return join(r(PRAISE_PREFIX), r(bodies), r(PRAISE_PUNCT), r(PRAISE_EMOJI))


LURES = [
    "私我优惠", "链接私你", "加V信{wx}", "vx: {wx}", "Q {qq}", "+v {wx} 有内部价", "想要的姐妹dd我",
    "需要的看我主页", "私我拿券后价", "V：{wx}，拉你进福利群", "扣{qq}领优惠", "同款私我",
]


def contact_ids(rng: np.random.Generator) -> tuple[str, str]:
    """A ring's off-platform contact: a WeChat-style id (abc12345) and a QQ number."""
    letters = "".join(chr(97 + int(c)) for c in rng.integers(0, 26, size=int(rng.integers(3, 6))))
    wx = letters + "".join(str(int(d)) for d in rng.integers(0, 10, size=int(rng.integers(4, 7))))
    qq = str(int(rng.integers(10**8, 4 * 10**9)))
    return wx, qq


def lure_comments(rng: np.random.Generator, n: int, wx: str, qq: str) -> pa.Array:
    """Lures to leave the platform (引流): private-message bait, WeChat and QQ ids."""
    r = lambda seq: pick(seq, rng.integers(0, len(seq), size=n))  # noqa: E731
    lures = [t.format(wx=wx, qq=qq) for t in LURES]
    return join(r(lures), r(["", "", "～", "！", "🙏", "😘"]))


QUESTIONS = ["姐妹，我搜{b}怎么没搜到啊", "求链接！", "这个在哪买的呀", "{b}哪里买是正品啊", "求个链接姐妹", "{b}是哪家店呀"]
ANSWERS = ["链接私你了", "已私", "私你了宝", "看我主页", "私你了，记得查收", "链接私你了～"]


def qa_pairs(rng: np.random.Generator, n: int, brand: str) -> tuple[pa.Array, pa.Array]:
    """Scripted question-and-answer acts between two ring accounts."""
    questions = [q.format(b=brand) for q in QUESTIONS]
    return (pick(questions, rng.integers(0, len(questions), size=n)),
            pick(ANSWERS, rng.integers(0, len(ANSWERS), size=n)))
