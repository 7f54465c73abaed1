"""Note bodies and hashtags (``notes.text``, ``notes.topics``: extensions of the input format), and planted
copied notes with their ground truth (``note_labels``).

- Organic bodies are assembled from many independent parts: an opener, two to four sentences of a theme
  (a lead, an action, a detail, sometimes an amount, a feeling) and a closer, so honest bodies are
  varied (40-300 characters) and not near-duplicates of one another (character 3-shingle Jaccard below
  0.3; ``tests/simulate/test_note_bodies.py`` checks it). Brand notes (official, declared, reviews,
  seeding) open with a sentence templated per brand and product, as their titles are, then go on as
  organic bodies of the brand's category do.
- Planted copies (``COPY_KINDS``): accounts of aged farms (raising their accounts) turn some of their
  camouflage notes into copies of a popular organic note posted at least a day earlier, and members of
  engagement farms post copied notes of their own (extra notes, numbered after all the others): word for
  word (``verbatim``) or "rewashed" (``rewashed``: a few words swapped, the first two sentences in the
  other order; 3-shingle Jaccard with the original still at least 0.3). Some agencies mass-produce all
  their underwater (seeding) notes from one skeleton with the brand, product, adjectives and a number
  filled in (``skeleton``; the agency's first such note is the one the others are ``copied_from``).

A note's parts are drawn by hashing (seed, note index, part), not from a generator's sequence, so a
body never depends on how the files are sliced; what is planted is drawn once from a generator of its
own (the seed and ``NOTE_TEXT_STREAM``) after the rest of the platform is made: every other file is
byte-identical to what it was before bodies existed. O(notes).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from ringscope.simulate.clock import ACTIVITY_START, DAY, HOUR, NOW
from ringscope.simulate.encode import join, splitmix64
from ringscope.simulate.text import CATEGORIES, organic_titles
from ringscope.simulate.world import (FIRST_FAKE_ROLE, NOTE_DECLARED, NOTE_OFFICIAL, NOTE_ORGANIC, NOTE_REVIEW,
                                      NOTE_SEEDING, World)

NOTE_TEXT_STREAM = 1407
OWN, VERBATIM, REWASHED, SKELETON = range(4)
COPY_KINDS = {VERBATIM: "verbatim", REWASHED: "rewashed", SKELETON: "skeleton"}
MIN_BODY, MAX_BODY = 40, 300
RENDER_ROWS = 50_000  # notes rendered at once (their intermediate texts: tens of MB)

# ---------------------------------------------------------------- vocabulary

# Themes: (hashtags, actions, details). A sentence is lead + action + detail + amount + feeling + end.
THEMES = [
    (["#穿搭", "#OOTD", "#小个子穿搭", "#通勤穿搭", "#今日穿搭", "#显瘦穿搭"],
     ["试了一下新买的", "翻出压箱底的", "终于入手了心心念念的", "照着博主搭了一套", "给妈妈挑了一件", "去商场试穿了",
      "把去年的旧衣服改成了", "咬牙买下了"],
     ["燕麦色针织开衫", "高腰阔腿牛仔裤", "法式碎花连衣裙", "黑色短款皮衣", "奶白色羊毛大衣", "复古格纹半身裙",
      "宽松款条纹衬衫", "灰色连帽卫衣", "雾霾蓝毛衣背心", "小众设计感马甲"]),
    (["#护肤", "#敏感肌", "#护肤心得", "#换季护肤", "#干皮", "#油皮日常"],
     ["换季之后认真研究了", "坚持了一个月的", "重新调整了自己的", "跟皮肤科医生聊了聊", "给干燥的脸做了", "精简了",
      "记录了一下", "自己尝试了"],
     ["早晚护肤步骤", "清洁和保湿的顺序", "刷酸的频率", "防晒的补涂方法", "面膜的使用时间", "泛红期的急救流程",
      "熬夜后的修护方案", "T区出油的处理", "闭口粉刺的护理", "晚间的按摩手法"]),
    (["#美食", "#探店", "#一人食", "#家常菜", "#减脂餐", "#周末做饭"],
     ["去吃了排了很久队的", "动手复刻了", "第一次尝试做", "跟室友分了一份", "路过小巷发现了", "给自己做了一顿",
      "被同事安利了", "早起煮了"],
     ["番茄牛腩煲", "酸汤肥牛", "桂花酒酿小圆子", "葱油拌面", "日式咖喱饭", "椰子鸡火锅", "砂锅小馄饨", "芝士焗红薯",
      "凉拌鸡丝", "广式肠粉"]),
    (["#旅行", "#citywalk", "#周末去哪儿", "#旅行攻略", "#小众景点", "#日落"],
     ["沿着老街走完了", "临时决定去了", "坐了两个小时的车去看", "偶然找到了", "爬到山顶刚好赶上", "骑车绕了一圈",
      "跟着本地人去了", "按攻略打卡了"],
     ["江边的日落", "藏在巷子里的书店", "人很少的海湾", "百年历史的石桥", "山脚下的茶园", "清晨的菜市场",
      "湖边的木栈道", "废弃工厂改的艺术区", "古镇的夜市", "半山腰的寺庙"]),
    (["#健身", "#居家健身", "#跑步", "#减脂", "#自律", "#瑜伽"],
     ["坚持打卡了", "第一次完成了", "跟着视频练了", "去操场慢跑了", "调整了一下", "和搭子一起做了",
      "咬牙坚持完了", "重新开始了"],
     ["二十分钟的核心训练", "五公里的晨跑", "一套拉伸动作", "帕梅拉的燃脂操", "站姿体态纠正", "开合跳和波比跳",
      "臀腿力量训练", "睡前的瑜伽", "间歇跑计划", "肩颈放松练习"]),
    (["#学习打卡", "#考研", "#读书笔记", "#备考", "#自律", "#图书馆"],
     ["泡图书馆复习了", "整理完了", "终于啃完了", "重新规划了", "用番茄钟完成了", "给自己列了",
      "跟研友讨论了", "熬夜写完了"],
     ["英语阅读真题", "高数错题本", "一本讲心理学的书", "每周的学习计划", "专业课的思维导图", "三篇论文笔记",
      "背单词的方法", "政治选择题", "作文模板", "明年的备考时间表"]),
    (["#家居", "#出租屋改造", "#收纳", "#租房", "#卧室改造", "#家居好物"],
     ["花了一个周末改造了", "重新整理了", "给小房间添了", "终于收拾好了", "从二手平台淘到了", "动手刷了",
      "把阳台变成了", "换掉了"],
     ["衣柜的收纳", "厨房的调料区", "一盏暖黄色落地灯", "书桌角落", "一把藤编椅子", "卧室的墙面", "小小的绿植角",
      "洗漱台的瓶瓶罐罐", "床边的置物架", "玄关的鞋柜"]),
    (["#猫咪", "#养猫", "#狗狗", "#萌宠日常", "#铲屎官", "#宠物"],
     ["带家里的小猫去做了", "给狗狗换了", "记录了一下", "陪主子玩了一下午", "第一次给猫咪剪了", "带毛孩子去了",
      "研究了好久", "终于教会了"],
     ["年度体检", "新的猫抓板", "吃饭时的小表情", "逗猫棒游戏", "指甲", "附近的宠物公园", "换粮的过渡方法",
      "握手和坐下", "洗澡前的准备", "夏天的防暑办法"]),
    (["#摄影", "#拍照姿势", "#手机摄影", "#调色", "#胶片", "#随手拍"],
     ["用手机拍了一组", "第一次尝试了", "去公园里拍了", "翻出旧相机拍了", "跟朋友互拍了", "修了一晚上",
      "整理了一下", "试着模仿了"],
     ["逆光的人像", "胶片风的街景", "雨后的倒影", "黄昏的剪影", "低饱和的色调", "窗边的静物", "夜晚的霓虹灯",
      "俯拍的早餐", "长曝光的车流", "花园里的微距"]),
    (["#职场", "#面试经验", "#打工人", "#通勤", "#副业", "#职场干货"],
     ["面试了一家", "终于做完了", "跟领导沟通了", "复盘了一下", "下班后研究了", "给新同事讲了",
      "熬了两个通宵赶完", "认真准备了"],
     ["互联网公司的产品岗", "季度汇报的材料", "加薪的事情", "这半年的工作", "一份副业计划", "部门的工作流程",
      "项目的结项报告", "群面的自我介绍", "简历的项目经历", "通勤路上的时间安排"]),
    (["#育儿", "#宝宝辅食", "#新手妈妈", "#亲子时光", "#育儿经验", "#宝宝日常"],
     ["给宝宝做了", "带孩子去了", "和老公商量了", "记录了一下宝宝", "第一次尝试了", "陪孩子完成了",
      "请教了儿科医生", "重新安排了"],
     ["南瓜小米糊", "周末的亲子农场", "睡前的绘本时间", "学走路的过程", "分房睡的计划", "一幅手指画",
      "换季的穿衣方法", "出牙期的护理", "每天的作息表", "第一次游泳课"]),
    (["#烘焙", "#手账", "#手作", "#DIY", "#烘焙新手", "#手工"],
     ["周末烤了", "第一次做了", "花了一下午拼完了", "照着教程做了", "给朋友准备了", "改良了一下",
      "失败了三次才做成", "用边角料做了"],
     ["巴斯克芝士蛋糕", "一页旅行手账", "蔓越莓司康", "钩针小挂件", "滴胶书签", "戚风蛋糕", "手工香薰蜡烛",
      "黄油曲奇", "羊毛毡小猫", "拼贴明信片"]),
]
GENERAL_TAGS = ["#日常", "#生活碎片", "#记录生活", "#分享", "#碎碎念", "#vlog", "#好物分享", "#周末", "#治愈系",
                "#生活方式"]
LEADS = ["", "", "上周", "前几天", "今天", "最近", "周末", "下班后", "早上", "昨晚", "趁着假期", "终于", "临时起意",
         "跟朋友一起", "一个人", "顺路", "抽空", "下雨天", "放假第一天", "忙完之后"]
AMOUNT_WORD = ["", "", "", "", "前后花了", "大概用了", "一共", "差不多", "整整"]
AMOUNT_UNIT = ["分钟", "块钱", "天", "个小时", "次"]
FEEL_ADVERB = ["真的", "还挺", "有点", "特别", "莫名", "意外地", "超级", "稍微", "居然", "依旧", "越来越", "相当"]
FEEL_WORD = ["治愈", "满足", "开心", "累", "放松", "惊喜", "踏实", "上头", "安心", "感动", "充实", "新鲜", "顺利",
             "好玩", "难忘", "舒服", "值", "费劲", "惬意", "有成就感"]
FEEL_TAIL = ["", "", "", "了", "啊", "哈哈", "呢", "吧"]
WITH_WHO = ["", "", "", "", "和闺蜜", "和室友", "和同事", "和男朋友", "和妈妈", "和发小", "和搭子", "带着妹妹",
            "和大学同学", "和邻居", "约上老朋友", "和表姐"]
PLACES = ["在上海", "在杭州", "在成都", "在大理", "在厦门", "在北京", "在重庆", "在长沙", "在西安", "在南京", "在武汉",
          "在苏州", "在青岛", "在昆明", "在广州", "在深圳", "在家", "在公司楼下", "在学校附近", "在老家"]
ENDS = ["。", "。", "！", "～", "。", "…"]
OPEN_A = ["记录一下", "碎碎念", "来交作业", "姐妹们", "终于有空更新", "周末小确幸", "想聊聊", "分享一下",
          "好久没发笔记", "随手记", "开个新坑", "接上次的话题", "被问了好多次", "流水账预警", "一点小心得", "认真写一篇",
          "今日份记录", "存个档"]
OPEN_B = ["", "", "", "啦", "呀"]
OPENER_ENDS = ["！", "～", "：", "。", "，"]
CLOSE_A = ["就这样", "有问题评论区见", "大家有什么推荐吗", "下期见", "欢迎交流", "纯个人感受", "希望对你有帮助",
           "先记录到这里", "晚安", "冲鸭", "继续加油", "评论区聊聊", "下次再更新", "有同款的举个手", "慢慢来比较快",
           "明天也要好好生活", "碎碎念结束", "祝大家周末愉快"]
CLOSE_B = ["", "啦", "～", "！", "呀", "。", "哦"]
FILLERS = ["写到这里突然想起来还有好多想说的，下次再补", "总之是很充实的一段时间，值得记下来",
           "虽然过程不算顺利，但结果还挺满意的", "一边做一边想，生活里的小事也能很有意思",
           "本来没打算发的，想了想还是分享出来吧", "这种慢慢变好的感觉真的会上瘾"]
# A brand's category -> the theme its notes go on with.
CATEGORY_THEME = {"美妆": 1, "护肤": 1, "母婴": 10, "食品": 2, "数码": 9, "服饰": 0, "家居": 6, "保健品": 4,
                  "宠物": 7}
ADJECTIVES = ["好用", "温和", "清爽", "持久", "顺滑", "轻薄", "耐用", "高级", "实惠", "贴心", "细腻", "惊艳"]
BRAND_OPENERS = {
    NOTE_OFFICIAL: ["【{b}官方】{p}上新啦，给大家讲讲它的设计思路。", "{b}家的{p}使用小贴士来啦！",
                    "很多宝子问{b}的{p}怎么选，今天统一回复一下。", "{b}品牌日：{p}限时福利，规则看这里。"],
    NOTE_DECLARED: ["本篇与{b}合作。", "感谢{b}的邀请，体验了他们的{p}。", "和{b}的合作笔记，先说结论：{p}挺{a}。",
                    "收到{b}寄来的{p}，用了一段时间来交作业。"],
    NOTE_REVIEW: ["最近自费入了{b}的{p}，说说真实感受。", "用完一整瓶{b}{p}，来写个不吹不黑的测评。",
                  "{b}的{p}到底值不值，我的看法是：", "纠结很久还是买了{b}{p}，优缺点都说一下。"],
    NOTE_SEEDING: ["挖到宝了！{b}的{p}真的太{a}了，", "不吹不黑，{b}{p}是我今年用过最{a}的，",
                   "后悔没早点遇到{b}，这款{p}绝了，", "空瓶记录：{b}{p}，回购无数次，",
                   "学生党平价{p}推荐：{b}，", "敏感肌也能用的{p}，{b}yyds，"],
}
BRAND_TAGS = {NOTE_OFFICIAL: ["#官方福利", "#新品上市"], NOTE_DECLARED: ["#品牌合作", "#好物体验"],
              NOTE_REVIEW: ["#真实测评", "#自费购买"], NOTE_SEEDING: ["#好物分享", "#种草", "#平价好物"]}
SKELETONS = [
    "姐妹们听我说！最近真的被{b}的{p}狠狠种草了。用了{n}天，最大的感受就是{a1}，而且特别{a2}。之前踩过很多雷，"
    "这次终于找到本命了。价格也很友好，学生党闭眼入不亏。感兴趣的自己搜{b}就行～",
    "作为一个挑剔的人，{b}{p}是我今年最满意的一次购物。第一次用就觉得{a1}，坚持{n}天之后更是{a2}到不行。"
    "包装也很用心，送人自用都合适。真心推荐，冲就完了！",
    "不是广告！自用{n}天的{b}{p}真实分享：优点是{a1}、{a2}，缺点是太容易回购了哈哈。身边好几个朋友被我安利后"
    "都说好，姐妹们可以放心入。",
    "救命，{b}这个{p}也太{a1}了吧！朋友推荐我才买的，没想到用了{n}天就爱上了。质地{a2}，上手一点都不费劲。"
    "已经囤了好几个，建议大家趁活动多买点。",
    "分享一个宝藏好物：{b}{p}。说实话刚开始没抱太大希望，结果{n}天下来{a1}又{a2}，完全超出预期。"
    "这个价位能买到这种品质，真的良心，入股不亏。",
]
SKELETON_TAGS = ["#{b}", "#{p}", "#好物分享", "#种草"]

N_SENTENCES = 4
# Part numbers of a body's recipe (hashed with the note's key).
(P_THEME, P_OPENER, P_OPENER_B, P_OPENER_END, P_CLOSER, P_CLOSER_B, P_COUNT, P_TAGS, P_TAG_A, P_TAG_B, P_TAG_G,
 P_FILLER, P_BRAND) = range(13)
P_SENTENCE = 32  # sentence s, field f: P_SENTENCE + 16 * s + f
LEAD, WHO, WHERE, ACTION, DETAIL, AMOUNT, AMOUNT_N, AMOUNT_UNIT_F, FEEL_A, FEEL_B, FEEL_C, END = range(12)
REWASH_SHARE = 0.22  # of a rewashed copy's word parts drawn anew
REWASH_MIN_JACCARD = 0.3  # a rewash is still a near-duplicate of its original (character 3-shingles)


def shingles(text: str, k: int = 3) -> set[str]:
    """The text's character k-shingles (the text itself when shorter)."""
    return {text[i:i + k] for i in range(max(len(text) - k + 1, 1))}


def jaccard(a: str, b: str) -> float:
    """Jaccard similarity of two texts' character 3-shingles."""
    x, y = shingles(a), shingles(b)
    return len(x & y) / len(x | y) if x or y else 1.0


def _draw(key: np.ndarray, part: int, n: int) -> np.ndarray:
    """An index in range(n) per key, for recipe part ``part``: a hash, not a generator's draw."""
    with np.errstate(over="ignore"):
        mixed = splitmix64(key ^ splitmix64(np.full(key.size, part + 1, np.uint64)))
    return (mixed % np.uint64(n)).astype(np.int64)


def _pick(choices: list[str], index: np.ndarray) -> pa.Array:
    return pa.array(choices, pa.string()).take(pa.array(index))


@dataclass
class Recipe:
    """Per body: its key (what its parts are hashed from) and, for a rewashed copy, the key of the rewash."""

    key: np.ndarray  # uint64
    wash: np.ndarray  # uint64; 0: no rewash
    share: float = REWASH_SHARE  # of a rewash's word parts drawn anew

    def rows(self, rows: np.ndarray, share: float | None = None, washed: bool = True) -> "Recipe":
        return Recipe(self.key[rows], self.wash[rows] if washed else np.zeros(len(rows), np.uint64),
                      self.share if share is None else share)

    def index(self, part: int, n: int, washable: bool = True) -> np.ndarray:
        own = _draw(self.key, part, n)
        if not washable:
            return own
        washed = self.wash != 0
        if not washed.any():
            return own
        anew = washed & (_draw(self.wash, part + 1000, 1000) < int(self.share * 1000))
        return np.where(anew, _draw(self.wash, part, n), own)


def organic_bodies(recipe: Recipe, theme: np.ndarray | None = None) -> tuple[pa.Array, pa.Array]:
    """(body, topics) of each recipe; ``theme`` fixes the theme (brand notes), else it is drawn."""
    if theme is None:
        theme = recipe.index(P_THEME, len(THEMES), washable=False)
    actions = [a for _, acts, _ in THEMES for a in acts]
    details = [d for _, _, dets in THEMES for d in dets]
    n_actions, n_details = len(THEMES[0][1]), len(THEMES[0][2])
    assert all(len(acts) == n_actions and len(dets) == n_details for _, acts, dets in THEMES)
    # Within a body no two sentences tell the same action or the same detail.
    action = _distinct([recipe.index(P_SENTENCE + 16 * s + ACTION, n_actions) for s in range(N_SENTENCES)], n_actions)
    detail = _distinct([recipe.index(P_SENTENCE + 16 * s + DETAIL, n_details) for s in range(N_SENTENCES)], n_details)
    sentences = []
    for s in range(N_SENTENCES):
        base = P_SENTENCE + 16 * s
        amount = recipe.index(base + AMOUNT, len(AMOUNT_WORD))
        number = pa.array((recipe.index(base + AMOUNT_N, 120) + 2).astype(str).tolist(), pa.string())
        amount_text = pc.if_else(pa.array(amount < 4), "",
                                 join("，", _pick(AMOUNT_WORD, amount), number,
                                      _pick(AMOUNT_UNIT, recipe.index(base + AMOUNT_UNIT_F, len(AMOUNT_UNIT)))))
        feel = recipe.index(base + FEEL_A, len(FEEL_ADVERB) + 3)  # one in five sentences without a feeling
        feeling = pc.if_else(pa.array(feel >= len(FEEL_ADVERB)), "",
                             join("，", _pick(FEEL_ADVERB, np.minimum(feel, len(FEEL_ADVERB) - 1)),
                                  _pick(FEEL_WORD, recipe.index(base + FEEL_B, len(FEEL_WORD))),
                                  _pick(FEEL_TAIL, recipe.index(base + FEEL_C, len(FEEL_TAIL)))))
        sentences.append(join(_pick(LEADS, recipe.index(base + LEAD, len(LEADS))),
                              _pick(WITH_WHO, recipe.index(base + WHO, len(WITH_WHO))),
                              _pick(PLACES, recipe.index(base + WHERE, len(PLACES))),
                              _pick(actions, theme * n_actions + action[s]),
                              _pick(details, theme * n_details + detail[s]), amount_text, feeling,
                              _pick(ENDS, recipe.index(base + END, len(ENDS)))))
    # A rewash tells the first two sentences in the other order.
    swap = pa.array(recipe.wash != 0)
    first, second = pc.if_else(swap, sentences[1], sentences[0]), pc.if_else(swap, sentences[0], sentences[1])
    count = 2 + recipe.index(P_COUNT, 3, washable=False)  # 2 to 4 sentences
    third = pc.if_else(pa.array(count >= 3), sentences[2], "")
    fourth = pc.if_else(pa.array(count >= 4), sentences[3], "")
    opener_index = recipe.index(P_OPENER, len(OPEN_A) + 6)  # one in four bodies without an opener
    opener = pc.if_else(pa.array(opener_index >= len(OPEN_A)), "",
                        join(_pick(OPEN_A, np.minimum(opener_index, len(OPEN_A) - 1)),
                             _pick(OPEN_B, recipe.index(P_OPENER_B, len(OPEN_B))),
                             _pick(OPENER_ENDS, recipe.index(P_OPENER_END, len(OPENER_ENDS)))))
    closer_index = recipe.index(P_CLOSER, len(CLOSE_A) + 6)
    closer = pc.if_else(pa.array(closer_index >= len(CLOSE_A)), "",
                        join(_pick(CLOSE_A, np.minimum(closer_index, len(CLOSE_A) - 1)),
                             _pick(CLOSE_B, recipe.index(P_CLOSER_B, len(CLOSE_B)))))
    body = join(opener, first, second, third, fourth, closer)
    # Too short: the fourth sentence after all, then a filler.
    short = pa.array(np.asarray(pc.less(pc.utf8_length(body), MIN_BODY)) & (count < 4))
    body = pc.if_else(short, join(body, sentences[3]), body)
    short = pc.less(pc.utf8_length(body), MIN_BODY)
    body = pc.if_else(short, join(body, _pick(FILLERS, recipe.index(P_FILLER, len(FILLERS))), "。"), body)
    return body, organic_topics(recipe, theme)


def _distinct(draws: list[np.ndarray], n: int) -> list[np.ndarray]:
    """The draws, each moved on (mod n) past the ones before it, so no two are equal. O(len(draws)**2)."""
    out: list[np.ndarray] = []
    for draw in draws:
        draw = draw.copy()
        for _ in range(len(out) + 1):
            clash = np.zeros(draw.size, bool)
            for earlier in out:
                clash |= draw == earlier
            if not clash.any():
                break
            draw = np.where(clash, (draw + 1) % n, draw)
        out.append(draw)
    return out


def organic_topics(recipe: Recipe, theme: np.ndarray) -> pa.Array:
    """0 to 3 hashtags: two of the theme's (distinct) and a general one, joined by ';'; null for none."""
    tags_per_theme = len(THEMES[0][0])
    assert all(len(tags) == tags_per_theme for tags, _, _ in THEMES)
    every = [tag for tags, _, _ in THEMES for tag in tags]
    a = recipe.index(P_TAG_A, tags_per_theme)
    b = (a + 1 + recipe.index(P_TAG_B, tags_per_theme - 1)) % tags_per_theme
    tag_a, tag_b = _pick(every, theme * tags_per_theme + a), _pick(every, theme * tags_per_theme + b)
    general = _pick(GENERAL_TAGS, recipe.index(P_TAG_G, len(GENERAL_TAGS)))
    count = recipe.index(P_TAGS, 8, washable=False)  # 0: none (1 in 8), 1, 2 or 3 tags
    topics = pc.if_else(pa.array(count >= 5), join(tag_a, ";", tag_b, ";", general),
                        pc.if_else(pa.array(count >= 3), join(tag_a, ";", tag_b), tag_a))
    return pc.if_else(pa.array(count == 0), pa.scalar(None, pa.string()), topics)


# ---------------------------------------------------------------- what is planted

@dataclass
class NoteTexts:
    """Everything the notes file's text and topics are made from, by note index (extra notes after the others)."""

    seed: int
    n_notes: int  # notes of the platform before the extra (copied) ones
    how: np.ndarray  # int8 per note: OWN, VERBATIM, REWASHED or SKELETON
    source: np.ndarray  # int64 per note: the note copied (-1: none); for a skeleton, the agency's first note
    skeleton: np.ndarray  # int16 per note: the skeleton used (-1: none)
    extra: dict[str, np.ndarray]  # the extra notes: author, posted, how, source
    extra_titles: pa.Array

    @property
    def total(self) -> int:
        return self.n_notes + self.extra["author"].size


def plant_note_texts(w: World, seed: int) -> NoteTexts:
    """Which notes are copies, of what; the extra notes engagement farms post. Its own generator."""
    rng = np.random.default_rng([seed, NOTE_TEXT_STREAM])
    N, A = w.N, w.A
    n = N["posted"].size
    kind, author, posted = N["kind"], N["author"], N["posted"]
    fake = A["role"].astype(np.int64) >= FIRST_FAKE_ROLE
    how = np.zeros(n, np.int8)
    source = np.full(n, -1, np.int64)
    skeleton = np.full(n, -1, np.int16)
    # Popular organic notes by honest authors (the top tenth by popularity), in time order.
    organic = np.flatnonzero((kind == NOTE_ORGANIC) & ~fake[author])
    popular = organic[N["weight"][organic] >= np.quantile(N["weight"][organic], 0.9)] if organic.size else organic
    popular = popular[np.argsort(posted[popular], kind="stable")]

    def sources(before: np.ndarray) -> np.ndarray:
        """A popular note posted before each time (-1 where none was)."""
        k = np.searchsorted(posted[popular], before, side="left")
        drawn = (rng.random(before.size) * k).astype(np.int64)
        return np.where(k > 0, popular[np.minimum(drawn, max(popular.size - 1, 0))], -1) if popular.size else \
            np.full(before.size, -1, np.int64)

    aged = np.zeros(A["role"].size, bool)
    for farm in w.farms:
        if farm.kind == "aged_farm":
            aged[farm.members] = True
    camouflage = np.flatnonzero((kind == NOTE_ORGANIC) & aged[author])
    chosen = camouflage[rng.random(camouflage.size) < 0.4]
    of = sources(posted[chosen] - DAY)
    washed = rng.random(chosen.size) < 0.5
    chosen, of, washed = chosen[of >= 0], of[of >= 0], washed[of >= 0]
    source[chosen] = of
    how[chosen] = np.where(washed, REWASHED, VERBATIM)

    extra_author, extra_posted = [], []
    for farm in w.farms:
        if farm.kind != "engagement_farm":
            continue
        members = farm.members[rng.random(farm.size) < 0.4]
        per = rng.integers(1, 4, members.size)
        who = np.repeat(members, per)
        lower = np.maximum(A["reg"][who] + DAY, ACTIVITY_START)
        upper = NOW - HOUR
        when = lower + (rng.random(who.size) * np.maximum(upper - lower, 0)).astype(np.int64)
        keep = lower < upper
        extra_author.append(who[keep])
        extra_posted.append(when[keep])
    e_author = np.concatenate(extra_author) if extra_author else np.zeros(0, np.int64)
    e_posted = np.concatenate(extra_posted) if extra_posted else np.zeros(0, np.int64)
    e_source = sources(e_posted - DAY)
    e_how = np.where(rng.random(e_author.size) < 0.5, REWASHED, VERBATIM).astype(np.int8)
    keep = e_source >= 0
    extra = {"author": e_author[keep].astype(np.int64), "posted": e_posted[keep].astype(np.int64),
             "source": e_source[keep], "how": e_how[keep]}
    titles = organic_titles(rng, int(keep.sum()))

    # Agencies that mass-produce their underwater notes from one skeleton each.
    by_agency: dict[int, list[np.ndarray]] = {}
    for farm in w.farms:
        notes = w.seeding.get(farm.number)
        if farm.intermediary >= 0 and notes is not None and notes.size:
            by_agency.setdefault(int(farm.intermediary), []).append(np.asarray(notes, np.int64))
    agencies = sorted(by_agency)
    mass = rng.random(len(agencies)) < 0.4
    if agencies and not mass.any():  # at least one, so even a small platform has some
        mass[rng.integers(0, len(agencies))] = True
    for agency in np.asarray(agencies, np.int64)[mass]:
        notes = np.concatenate(by_agency[int(agency)])
        notes = notes[np.argsort(posted[notes], kind="stable")]
        skeleton[notes] = rng.integers(0, len(SKELETONS))
        how[notes] = SKELETON
        source[notes[1:]] = notes[0]
    return NoteTexts(seed, n, how, source, skeleton, extra, titles)


# ---------------------------------------------------------------- rendering

def _keys(seed: int, index: np.ndarray) -> np.ndarray:
    """The recipe key of note ``index`` (never 0)."""
    with np.errstate(over="ignore"):
        salt = splitmix64(np.array([seed * 0x100000001B3 + NOTE_TEXT_STREAM], np.uint64))[0]
        return splitmix64(np.asarray(index, np.int64).astype(np.uint64) ^ salt) | np.uint64(1)


def render(texts: NoteTexts, index: np.ndarray, w: World, titles: pa.Array | None = None
           ) -> tuple[pa.Array, pa.Array]:
    """(text, topics) of notes ``index`` (extra notes numbered from ``texts.n_notes``), given their ``titles``
    (a brand note's body names the product its title names). O(len(index)); the intermediate texts of at most
    RENDER_ROWS notes are held at once."""
    index = np.asarray(index, np.int64)
    if index.size > RENDER_ROWS:
        pieces = [render(texts, index[a:a + RENDER_ROWS], w,
                         None if titles is None else titles.slice(a, RENDER_ROWS))
                  for a in range(0, index.size, RENDER_ROWS)]
        return (pa.concat_arrays([p[0] for p in pieces]), pa.concat_arrays([p[1] for p in pieces]))
    n = texts.n_notes
    own = index < n
    how = np.where(own, texts.how[np.minimum(index, n - 1)] if n else 0,
                   texts.extra["how"][np.maximum(index - n, 0)] if texts.extra["how"].size else 0)
    source = np.where(own, texts.source[np.minimum(index, n - 1)] if n else -1,
                      texts.extra["source"][np.maximum(index - n, 0)] if texts.extra["source"].size else -1)
    # A copy is the body of its source (an organic note): the source's key; a rewash adds its own.
    copied = (how == VERBATIM) | (how == REWASHED)
    body_of = np.where(copied, source, index)
    wash = np.where(how == REWASHED, _keys(texts.seed, index + (1 << 40)), np.uint64(0)).astype(np.uint64)
    recipe = Recipe(_keys(texts.seed, body_of), wash)
    brand = np.where(own & ~copied, w.N["brand"][np.minimum(index, n - 1)], -1) if n else np.full(index.size, -1)
    kind = np.where(own & ~copied, w.N["kind"][np.minimum(index, n - 1)], NOTE_ORGANIC) if n else \
        np.full(index.size, NOTE_ORGANIC)
    if "brand" in texts.extra and texts.extra["brand"].size:  # brand notes among the extra ones (simulate.farmed)
        at = np.clip(index - n, 0, texts.extra["brand"].size - 1)
        brand = np.where(~own & ~copied, texts.extra["brand"][at], brand)
        kind = np.where(~own & ~copied & (brand >= 0), texts.extra["kind"][at], kind)
    branded = (brand >= 0) & (how != SKELETON)
    theme = recipe.index(P_THEME, len(THEMES), washable=False)
    brand_theme = np.array([CATEGORY_THEME.get(c, 0) for c in w.brand_categories] or [0], np.int64)
    theme = np.where(branded, brand_theme[np.maximum(brand, 0)], theme)
    body, topics = organic_bodies(recipe, theme)
    # A rewash keeps at least REWASH_MIN_JACCARD of its original's 3-shingles: where the words drawn anew
    # changed more, only the order of its sentences is changed.
    washed = np.flatnonzero(how == REWASHED)
    if washed.size:
        original, _ = organic_bodies(recipe.rows(washed, washed=False), theme[washed])
        rewashed = body.take(pa.array(washed)).to_pylist()
        too_far = np.array([jaccard(a, b) < REWASH_MIN_JACCARD for a, b in zip(original.to_pylist(), rewashed)])
        if too_far.any():
            rows = washed[too_far]
            light, light_topics = organic_bodies(recipe.rows(rows, share=0.0), theme[rows])
            body, topics = body.to_pylist(), topics.to_pylist()
            for row, text, tags in zip(rows, light.to_pylist(), light_topics.to_pylist()):
                body[row], topics[row] = text, tags
            body, topics = pa.array(body, pa.string()), pa.array(topics, pa.string())
    special = np.flatnonzero(branded | (how == SKELETON))
    if special.size:
        body, topics = body.to_pylist(), topics.to_pylist()
        key = recipe.key[special]
        draws = [_draw(key, P_BRAND + k, bound).tolist() for k, bound in enumerate((60, 12, 12, 12, 28, 60, 2))]
        named = titles.take(pa.array(special)).to_pylist() if titles is not None else [None] * special.size
        for j, i in enumerate(special.tolist()):
            body[i], topics[i] = _brand_text([d[j] for d in draws], int(brand[i]), int(kind[i]), int(how[i]),
                                             int(texts.skeleton[index[i]]) if own[i] else -1, body[i], named[j], w)
        body, topics = pa.array(body, pa.string()), pa.array(topics, pa.string())
    return body, topics


def _brand_text(draws: list[int], brand: int, kind: int, how: int, skeleton: int, body: str, title: str | None,
                w: World) -> tuple[str, str]:
    """A brand note's body and topics: its brand opener, then an organic body of the brand's category; a
    skeleton note: its agency's skeleton, filled in. The product is the one its title names, if it names one."""
    name, category = w.brand_names[brand], w.brand_categories[brand]
    products = CATEGORIES[category]
    product = next((p for p in products if title and p in title), products[draws[0] % len(products)])
    adjective = [ADJECTIVES[draws[k]] for k in (1, 2, 3)]
    if adjective[2] == adjective[1]:
        adjective[2] = ADJECTIVES[(draws[2] + 1) % len(ADJECTIVES)]
    if how == SKELETON:
        text = SKELETONS[skeleton].format(b=name, p=product, a1=adjective[1], a2=adjective[2], n=draws[4] + 3)
        return text[:MAX_BODY], ";".join(t.format(b=name, p=product) for t in SKELETON_TAGS)
    openers = BRAND_OPENERS.get(kind, BRAND_OPENERS[NOTE_REVIEW])
    opener = openers[draws[5] % len(openers)].format(b=name, p=product, a=adjective[0])
    tags = [f"#{name}", f"#{product}"] + BRAND_TAGS.get(kind, BRAND_TAGS[NOTE_REVIEW])[:1 + draws[6]]
    return (opener + body)[:MAX_BODY], ";".join(tags)


def labels_table(texts: NoteTexts, number_of, ids_of) -> pa.Table:
    """The ground truth of planted copies (evaluation only), in note id order: ``note_id``, ``kind``
    (verbatim, rewashed, skeleton), ``copied_from`` (the original; for a skeleton note, its agency's first
    one, and none for that one) and ``skeleton`` (K01.. the skeleton used). ``number_of``/``ids_of``: a note
    index's id number and id."""
    own = np.flatnonzero(texts.how != OWN)
    copies = np.flatnonzero(texts.extra["how"] != OWN)  # simulate.farmed adds notes of their own among the extra
    index = np.concatenate([own, texts.n_notes + copies])
    how = np.concatenate([texts.how[own], texts.extra["how"][copies]]).astype(np.int64)
    source = np.concatenate([texts.source[own], texts.extra["source"][copies]])
    skeleton = np.concatenate([texts.skeleton[own], np.full(copies.size, -1, np.int16)])
    order = np.argsort(number_of(index), kind="stable")
    return pa.table({
        "note_id": ids_of(index[order]),
        "kind": pa.array([COPY_KINDS[int(h)] for h in how[order]], pa.string()),
        "copied_from": ids_of(source[order]),
        "skeleton": pa.array([None if s < 0 else f"K{s + 1:02d}" for s in skeleton[order]], pa.string()),
    })
