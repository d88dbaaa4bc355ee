/** One gift of the default catalogue, with its names in every supported language. */
interface DefaultGift {
  id: string;
  coins: number;
  level: number;
  name: string;
  desc: string;
  zhHans: [name: string, desc: string];
  zhHant: [name: string, desc: string];
}

/** One category of the default catalogue and the gifts it holds. */
interface DefaultCategory {
  id: string;
  name: string;
  desc: string;
  zhHans: [name: string, desc: string];
  zhHant: [name: string, desc: string];
  gifts: DefaultGift[];
}

const g = (id: string, coins: number, level: number, name: string, desc: string, zhHans: [string, string], zhHant: [string, string]): DefaultGift => ({
  id,
  coins,
  level,
  name,
  desc,
  zhHans,
  zhHant,
});

/**
 * What copy_default_gift_config installs: 3 categories and 15 gifts, named in en (the defaults), zh-Hans and
 * zh-Hant. Every name and description fits the 20-byte limits. Icons and resources are left empty: trtcd ships no
 * artwork, so set IconUrl/ResourceUrl with edit_gift.
 */
export const DEFAULT_CATALOGUE: DefaultCategory[] = [
  {
    id: 'popular',
    name: 'Popular',
    desc: 'Everyday favourites',
    zhHans: ['热门', '人气礼物'],
    zhHant: ['熱門', '人氣禮物'],
    gifts: [
      g('rose', 1, 0, 'Rose', 'A red rose', ['玫瑰', '一朵红玫瑰'], ['玫瑰', '一朵紅玫瑰']),
      g('like', 2, 0, 'Thumbs Up', 'Nice stream!', ['点赞', '为你点赞'], ['點讚', '為你點讚']),
      g('heart', 5, 0, 'Heart', 'Sending love', ['爱心', '送你爱心'], ['愛心', '送你愛心']),
      g('applause', 10, 1, 'Applause', 'Bravo!', ['鼓掌', '精彩'], ['鼓掌', '精彩']),
      g('star', 20, 1, 'Star', 'You are a star', ['星星', '闪亮之星'], ['星星', '閃亮之星']),
    ],
  },
  {
    id: 'fun',
    name: 'Fun',
    desc: 'Playful gifts',
    zhHans: ['趣味', '好玩的礼物'],
    zhHant: ['趣味', '好玩的禮物'],
    gifts: [
      g('lollipop', 15, 1, 'Lollipop', 'Something sweet', ['棒棒糖', '甜甜的'], ['棒棒糖', '甜甜的']),
      g('cake', 30, 1, 'Cake', 'Let us celebrate', ['蛋糕', '一起庆祝'], ['蛋糕', '一起慶祝']),
      g('balloon', 50, 2, 'Balloon', 'Up and away', ['气球', '飞起来'], ['氣球', '飛起來']),
      g('teddy', 66, 2, 'Teddy Bear', 'A big hug', ['小熊', '大大的拥抱'], ['小熊', '大大的擁抱']),
      g('fireworks', 99, 2, 'Fireworks', 'Light up the sky', ['烟花', '点亮夜空'], ['煙花', '點亮夜空']),
    ],
  },
  {
    id: 'luxury',
    name: 'Luxury',
    desc: 'Big moments',
    zhHans: ['豪华', '豪华礼物'],
    zhHant: ['豪華', '豪華禮物'],
    gifts: [
      g('diamond', 199, 3, 'Diamond', 'Shine bright', ['钻石', '闪耀'], ['鑽石', '閃耀']),
      g('crown', 520, 3, 'Crown', 'For the king', ['皇冠', '王者之冠'], ['皇冠', '王者之冠']),
      g('sportscar', 1314, 4, 'Sports Car', 'Full speed ahead', ['跑车', '全速前进'], ['跑車', '全速前進']),
      g('yacht', 3344, 4, 'Yacht', 'Set sail', ['游艇', '扬帆起航'], ['遊艇', '揚帆起航']),
      g('rocket', 9999, 5, 'Rocket', 'To the moon', ['火箭', '冲上月球'], ['火箭', '衝上月球']),
    ],
  },
];
