"""Site furniture by its form: the patterns that say a sentence is a sign-up, a share bar, a credit, a cookie
notice... in the languages of the pages we measured on. Pure. ``core.furniture`` judges whole texts with
these and with what an outlet repeats.
"""

from __future__ import annotations

import re
from functools import lru_cache

from monitor.core import text as textmod
from monitor.core.prepared import SENTENCES

_I = re.IGNORECASE
_MONTH = r"(?:jan|feb|mar|apr|may|jun|jul|aug|sep|sept|oct|nov|dec)[a-z]*\.?"
_WEEKDAY = r"(?:mon|tues|wednes|thurs|fri|satur|sun)day"

# Anchored at the start of the sentence: these open furniture lines and almost never open news.
_OPENERS = (
    # newsletters, sign-ups, accounts
    r"success!?$",
    r"(?:email )?newsletters?\b",
    r"sign (?:up|in)\b",
    r"(?:please )?(?:subscribe|register|log ?in)\b",
    r"already (?:a subscriber|have an account|registered)",
    r"thank(?:s| you) for (?:registering|signing up|subscribing|reading|visiting)",
    r"(?:want|like) to (?:become|read|receive|get)\b.*\?$",
    r"get (?:the|our) (?:latest|day'?s|top|best|free)\b",
    r"get email notifications",
    r"close get\b",
    r"stay (?:updated|informed|connected)\b",
    r"download (?:our|the) (?:free )?app",
    # social, sharing, comments
    r"follow (?:us|him|her|them|me|@|[\w.]+(?:\.com)?\s*(?:on|:))",
    r"(?:like|share|tweet|pin|email|print|save)(?: (?:this|on \w+))?(?: (?:story|article|page|post))?[:!.]?$",
    r"(?:facebook|twitter|instagram|pinterest|linkedin|whatsapp|reddit|google\+?|youtube|tumblr|telegram)$",
    r"join the (?:conversation|discussion)",
    r"(?:leave|post|add|view|show|hide|read) (?:a |the |all |\d+ )?comments?\b",
    r"\d[\d,.]*k? (?:shares?|comments?|likes?|views?|reactions?)$",
    r"comments?\s*(?:\(\d+\))?$",
    r"have a (?:news )?tip\b",
    r"tell us what you think",
    r"click (?:here|to|on the|the)\b",
    # embeds, video, galleries
    r"embed\b",
    r"(?:watch|video|videos|photos?|gallery|slideshow|audio|listen|podcast)\s*[:|>]",
    r"(?:watch|view|see) (?:the |our |full |more )?(?:video|story|gallery|photos|caption|report|slideshow)\b",
    r"view full caption",
    r"(?:scroll down|click) for (?:video|more|the full)",
    r"enlarge$",
    r"\d+ of \d+$",
    r"image \d+ of \d+",
    # read more, related, lists of links
    r"(?:read|see|view|find|discover) (?:more|also|next|this|the full|full|our)\b",
    r"(?:related|recommended|trending|popular|latest|top|more|further)"
    r"(?: \w+){0,3}\s*(?:stories|articles|links|content|news|videos|reading|coverage|posts|from \w+)?\s*:?$",
    r"related\b\s*(?:\w+\s*)?:",
    r"(?:more|further) (?:on|about|from|coverage|information|info|news|stories|videos)\b.*(?::|https?://)",
    r"(?:see|read|watch) more\b",
    r"(?:you|we) (?:may|might|think you'?d?) (?:also )?(?:like|enjoy|be interested)",
    r"don'?t miss\b",
    r"most (?:read|popular|viewed|shared|watched)\b",
    r"(?:also|previously) (?:on|in|read)\b.*:",
    r"for more (?:\w+ )?(?:news|stories|coverage|information|updates)\b",
    r"(?:tags?|filed under|categor(?:y|ies)|topics?)\s*:",
    r"tags$",
    # advertising
    r"(?:advertisements?|sponsored(?: content)?|promoted(?: content)?|ad|ads|paid content|partner content)$",
    r"story continues below",
    r"continue reading\b",
    # photo credits and captions
    r"\(?(?:ap |afp |reuters |file |staff )?(?:photo|image|picture|pic|video|credit|caption)s?"
    r"\s*(?:by|courtesy|credit)?\s*[:/|]",
    r"\(?(?:photo|image)s? (?:by|courtesy|credit)\b",
    r"courtesy(?: of)? [\w .'-]+$",
    r"\((?-i:[A-Z])[\w.' -]+/[\w .'-]+\)\.?$",  # "(Eric Youngman/FOX5)"
    r"(?-i:[A-Z])[\w.' -]+ is an? (?:[\w-]+ ){0,3}(?:staff writer|reporter|correspondent|columnist|contributor)\.?$",
    r"watch for updates\b",
    r"buy photo",
    # copyright and bylines
    r"\(?copyright\b",
    r"\(?(?:tm and )?©",
    r"by (?-i:[A-Z][\w.'-]+(?: [A-Z][\w.'-]+){0,3})\s*(?:,|\||$)",
    r"(?:email|contact|reach) (?:the )?(?:reporters?|writer|author|(?-i:[A-Z][\w'-]+(?: [A-Z][\w'-]+){0,2}))\b.*"
    r"(?:\bat\b|@|https?://)",
    r"follow (?:him|her|them) on\b",
    # dates and times as lines of their own
    r"(?:last )?(?:updated|posted|published|modified|created)\b\s*(?:on|at)?\s*:?\s*"
    rf"(?:\d|{_WEEKDAY}|{_MONTH}|today|yesterday)",
    rf"(?:{_WEEKDAY},? )?{_MONTH} \d{{1,2}},? \d{{4}}(?:,? (?:at )?\d{{1,2}}:\d\d\s*(?:[ap]\.?m\.?)?(?: \w{{2,4}})?)?"
    r"(?:\s*[-|]\s*\d{1,2}:\d\d\s*\w*)?$",
    r"\d{1,2}[/.]\d{1,2}[/.]\d{2,4}(?:\s*[-|]|$)",
    # cookies, paywalls, scripts
    r"(?:this (?:site|website) uses|we use) cookies",
    r"(?:please )?enable javascript",
    r"you need (?:the latest version of )?(?:the )?adobe flash",
    r"(?:this|the) (?:content|article|story) is (?:only )?(?:available|for) (?:to )?(?:subscribers|members)",
    r"(?:sorry|oops),? (?:this|the|we|something|your)\b",
    r"(?:re-?enter|enter) (?:your )?(?:zip|email|the characters)",
    r"required [\w ]{1,30}:$",  # a form's field labels ("Required Email:")
    # German
    r"(?:anzeige|werbung)$",
    r"(?:mehr zum thema|lesen sie (?:auch|mehr)|weiterlesen|das könnte sie auch interessieren|auch interessant)",
    r"(?:folgen sie uns|newsletter abonnieren|jetzt (?:anmelden|abonnieren|registrieren))",
    r"(?:foto|bild|quelle|fotos)\s*:",
    r"(?:aktualisiert|veröffentlicht)\s*(?:am|um)?\s*:?\s*\d",
    r"(?:teilen|kommentare)$",
    # French
    r"(?:publicité|pub)$",
    r"(?:lire (?:aussi|la suite|plus)|à lire (?:aussi|également)|voir aussi|sur le même sujet)",
    r"(?:suivez-nous|abonnez-vous|inscrivez-vous)",
    r"(?:crédits? (?:photo)?|photo)\s*:",
    r"(?:mis à jour|publié) (?:le|à)\b",
    r"(?:partager|commentaires)$",
    # Spanish
    r"(?:publicidad)$",
    r"(?:lee (?:también|más)|leer más|te puede interesar|noticias relacionadas|más información|ver más)",
    r"(?:síguenos|suscríbete|regístrate)",
    r"(?:foto|fotografía)\s*:",
    r"(?:actualizado|publicado)\s*(?:el|a las)?\s*:?\s*\d",
    r"(?:compartir|comentarios)$",
    # Italian
    r"(?:pubblicità)$",
    r"(?:leggi (?:anche|di più|tutto)|potrebbe interessarti|articoli correlati|vedi anche)",
    r"(?:seguici|iscriviti)",
    r"(?:aggiornato|pubblicato)\s*(?:il|alle)?\s*:?\s*\d",
    r"(?:condividi|commenti)$",
    # Portuguese
    r"(?:publicidade)$",
    r"(?:leia (?:também|mais)|saiba mais|veja (?:também|mais)|notícias relacionadas)",
    r"(?:siga-nos|assine|inscreva-se)",
    r"(?:atualizado|publicado)\s*(?:em|às|por)\b",
    r"(?:compartilhe|comentários)$",
    r"tempo de leitura",
    r"atenção: comentários",
    r"(?:segunda|terça|quarta|quinta|sexta)-feira, \d{1,2} de \w+ de \d{4}",
    # Dutch
    r"(?:advertentie)$",
    r"(?:lees (?:ook|meer)|meer over)\b",
    r"(?:volg ons|schrijf je in)",
    r"(?:bijgewerkt|gepubliceerd)\s*(?:op|om)?\s*:?\s*\d",
    r"(?:delen|reacties)$",
    # Russian
    r"(?:реклама)$",
    r"(?:читайте (?:также|нас)|подробнее|смотрите также|по теме)",
    r"(?:подписывайтесь|подпишитесь)",
    r"(?:фото|источник)\s*:",
    r"(?:обновлено|опубликовано)\s*:?\s*\d",
    r"(?:поделиться|комментарии)$",
    # Chinese, Japanese, Korean (no word boundaries: these are literal openers)
    r"(?:广告|相关阅读|相关新闻|阅读更多|关注我们|订阅|责任编辑|来源[:：]|图片来源|更新于)",
    r"(?:広告|関連記事|続きを読む|あわせて読みたい|フォローする|写真[:：])",
    r"(?:광고|관련기사|더보기|구독하기|사진[=:])",
)
_OPENER = re.compile(r"^[\s\-–—•*·|>(\[]{0,3}(?:" + "|".join(_OPENERS) + r")", _I)

_CJK_CHARS = re.compile(r"[\u3040-\u30ff\u3400-\u9fff\uac00-\ud7af]")

# Anywhere in the sentence: phrases no news sentence needs. Each pattern is tried only when one of its
# words is in the lower-cased sentence: one alternation of them all, searched at every position, cost
# 0.2 ms a sentence (bench/bench_novelty.py); a substring test costs nanoseconds.
_ANYWHERE: tuple[tuple[tuple[str, ...], str], ...] = (
    (("email has been sent",), r"an email has been sent"),
    (("confirm",), r"confirm (?:your )?(?:list )?sign ?up"),
    (
        ("your inbox", "your door", "your letterbox", "your mailbox"),
        r"(?:delivered|straight|right|sent) (?:\w+ ){0,3}"
        r"(?:to|through|in) your (?:inbox|door|letterbox|mailbox)",
    ),
    (("issues for",), r"^\d+ issues for\b"),
    (("access to",), r"^get (?:unlimited |full |instant )?access to\b"),
    (("code",), r"^use (?:the )?(?:promo |discount )?code\b"),
    (("check your",), r"check your (?:spam|junk|inbox|email)"),
    (("verification", "confirmation"), r"(?:verification|confirmation) (?:email|message|link)"),
    (
        (
            "by submitting your",
            "terms of service",
            "terms of use",
            "privacy policy",
            "used under license",
            "more news videos",
            "getty images",
            "shutterstock",
            "istockphoto",
            "click to tweet",
            "pic.twitter.com/",
            "all rights reserved",
            "alle rechte vorbehalten",
            "tous droits réservés",
            "todos los derechos reservados",
            "tutti i diritti riservati",
            "riproduzione riservata",
            "todos os direitos reservados",
            "alle rechten voorbehouden",
            "все права защищены",
            "版权所有",
            "無断転載",
            "저작권자",
            "like loading",
        ),
        "",
    ),
    (("전재",), r"무단 ?전재"),
    (("may not be",), r"may not be (?:published|reproduced|broadcast|rewritten|redistributed)"),
    (
        ("ap photo", "ap/", "afp", "reuters photo", "reuters/", "getty", "epa/", "epa photo"),
        r"\b(?:ap|afp|reuters|getty|epa)(?: images)?\s*(?:photo|/)",
    ),
    (("photo",), r"\((?:ap |afp )?photo\b"),
    (("...more", "... more", "…more", "… more"), r"(?:\.\.\.|…)\s*more\s*(?:photo|$)"),
    (("notification",), r"\b(?:your|email) notifications?\b"),
    (("flash",), r"you need (?:the )?flash\b|\bflash (?:player|update)\b"),
    ((" app",), r"(?:on|in) our (?:mobile |free )?(?:news )?apps?\b"),
    # a teaser cut off mid-sentence ("... the house where...")
    (("...", "…"), r"^[^\"“‘'].*[\w,] ?(?:\.\.\.|…)$"),
    (("[",), r"\[(?:insight|video|pics|pictures|reaction|news|warning|latest|analysis|poll|revealed|photos|gallery)\]"),
    (("updated", "corrected"), r"\b(?:this|the) (?:story|article|page) (?:has been|was) (?:updated|corrected)\b"),
    (("cookie",), r"\bcookies?\b.*\b(?:accept|consent|policy|settings)\b"),
    (("subscri", "paywall"), r"\b(?:subscription|subscribers?|paywall)\b.*\b(?:offer|access|only|today|now)\b"),
    ((" ago",), r"\b\d+ (?:minutes?|mins?|hours?|hrs?) ago\b"),
    (
        ("vor ", "il y a", "hace ", " fa", "há ", "geleden", "назад", "前"),
        r"vor \d+ (?:minuten|stunden)|il y a \d+ (?:minutes|heures)|hace \d+ (?:minutos|horas)"
        r"|\d+ minuti fa|há \d+ minutos|\d+ minuten geleden|\d+ минут(?:ы)? назад|\d+ ?分(?:钟)?前",
    ),
)
# (phrase, compiled pattern to confirm, or None when the phrase alone is enough), found through the
# longest word of the phrase: the sentence's words are one set, and only the phrases whose word is in it
# are looked for. Phrases without such a word (CJK, punctuation) are always looked for.
_GATED: dict[str, list[tuple[str, re.Pattern[str] | None]]] = {}
_ALWAYS: list[tuple[str, re.Pattern[str] | None]] = []
_TOKEN = re.compile(r"\w+")
for _words, _p in _ANYWHERE:
    for _w in _words:
        _entry = (_w, re.compile(_p, _I) if _p else None)
        _gate = max(_TOKEN.findall(_w), key=len, default="")
        if len(_gate) < 2 or _CJK_CHARS.search(_w):
            _ALWAYS.append(_entry)
        else:
            _GATED.setdefault(_gate, []).append(_entry)


def _anywhere(sentence: str) -> bool:
    low = sentence.lower()
    for gate in _GATED.keys() & set(_TOKEN.findall(low)):
        if any(w in low and (p is None or p.search(sentence)) for w, p in _GATED[gate]):
            return True
    return any(w in low and (p is None or p.search(sentence)) for w, p in _ALWAYS)


# A sentence that is mostly a link, a handle or an address is a pointer, not news.
_LINKISH = re.compile(r"https?://\S+|www\.\S+|\S+@\S+\.\w+|(?<!\w)[@#]\w+|pic\.twitter\.com/\S+", _I)
_SHORT_WORDS = 12
_LINK_HINTS = ("http", "www.", "@", "#", ".com")


# Words glued by a hover card or a dropped space ("Ilhan OmarIlhan OmarHillicon Valley"): two in one
# sentence mean the text is page markup run together, not a sentence the article prints.
_GLUED = re.compile(r"[a-z]{3}[A-Z][a-z]{2}")


def is_furniture(sentence: str) -> bool:
    """True for a sentence that is site furniture by its form (any language listed above)."""
    known = SENTENCES.get(sentence)  # worked out in a parse worker (core.prepared)
    if known is not None:
        return known.furniture
    return _is_furniture(sentence)


# Remembered: the versions of one story repeat most of their sentences (a wire story re-run by a hundred
# outlets), and these patterns were the largest part of judging a version's furniture.
@lru_cache(maxsize=4096)
def _is_furniture(sentence: str) -> bool:
    s = sentence.strip()
    if not s:
        return True
    if textmod.is_boilerplate(s) or _OPENER.match(s) or _anywhere(s) or len(_GLUED.findall(s)) >= 2:
        return True
    links = _LINKISH.findall(s) if any(c in s for c in _LINK_HINTS) else None
    if links:
        rest = _LINKISH.sub(" ", s)
        words = textmod.words(rest)
        if len(words) <= _SHORT_WORDS or sum(map(len, links)) > len(rest):
            return True
    return False
