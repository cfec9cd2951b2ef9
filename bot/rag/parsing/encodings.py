"""Which legacy code page a non-UTF-8 text file was written in, or that it cannot be told.

A byte string decodes without error in most single-byte code pages, so "it decodes" says nothing;
the wrong code page gives text that no language is written in (French read as the Baltic cp775 reads
"Le cafķ na’f"). Each candidate decoding is judged by what it would mean:
- its non-ASCII letters must all belong to the alphabet of one language that code page serves;
- each word must be written in one script, with no symbol inside it (a mis-decoded byte puts a Greek
  letter or a box-drawing character in the middle of a Latin or Cyrillic word);
- cased words must be lower case, Title case or ALL CAPS (mis-decoded bytes mix cases mid-word);
- the letters it uses should be that language's common ones (é in French, not ķ in Latvian), and in
  Chinese, Japanese and Korean the common characters (the first level of their national standards).
The most plausible decoding wins; between two that read alike, the more widely used code page. When
no decoding is plausible, or two different readings are about as plausible, nothing is guessed: the
file is refused with a reason the person can act on (save it as UTF-8).
"""

from __future__ import annotations

import itertools
import re
import unicodedata
from dataclasses import dataclass

from bot.rag.parsing.types import ParseError

CANNOT_TELL = ("not UTF-8, and its encoding cannot be told for sure{readings}: save it as UTF-8 (in most "
               "editors: Save as > Encoding UTF-8) and upload it again")

# Extra letters (beyond a-z) of each language's alphabet, and the most common of them.
_LATIN: dict[str, tuple[str, str]] = {
    "English": ("", ""),
    "French": ("àâæçéèêëîïôœùûüÿ", "éèàçêô"),
    "German": ("äöüß", "äöüß"),
    "Spanish": ("áéíñóúü", "áéíñóú"),
    "Portuguese": ("áâãàçéêíóôõú", "ãçéáíóõâêô"),
    "Italian": ("àèéìíîòóùú", "àèéìòù"),
    "Dutch": ("éëïöüèáóú", "éëï"),
    "Danish": ("æøåé", "æøå"),
    "Norwegian": ("æøåéòóô", "æøå"),
    "Swedish": ("åäöé", "åäö"),
    "Finnish": ("äöåšž", "äö"),
    "Icelandic": ("áðéíóúýþæö", "áðéíóúýþæö"),
    "Catalan": ("àçèéíïòóúü", "àçèéíòóú"),
    "Polish": ("ąćęłńóśźż", "ąćęłńóśźż"),
    "Czech": ("áčďéěíňóřšťúůýž", "áčéěíňóřšúůýž"),
    "Slovak": ("áäčďéíĺľňóôŕšťúýž", "áčéíľňóšťúýž"),
    "Hungarian": ("áéíóöőúüű", "áéíóöőúüű"),
    "Romanian": ("ăâîșțşţ", "ăâîșțşţ"),
    "Croatian": ("čćđšž", "čćđšž"),
    "Slovene": ("čšž", "čšž"),
    "Albanian": ("çë", "çë"),
    "Turkish": ("çğıöşüâîû", "çğıöşü"),
    "Latvian": ("āčēģīķļņšūž", "āēīšūčž"),
    "Lithuanian": ("ąčęėįšųūž", "ąčęėįšųūž"),
    "Estonian": ("äõöüšž", "äõöü"),
    "Vietnamese": ("àáâãèéêìíòóôõùúýăđĩũơưạảấầẩẫậắằẳẵặẹẻẽếềểễệỉịọỏốồổỗộớờởỡợụủứừửữựỳỵỷỹ",
                   "àáâãèéêìíòóôõùúýăđơưạảấầậắếềểệịọốồộớờợụủứừữựỹ"),
}
_RU = "абвгдежзийклмнопрстуфхцчшщъыьэюяё"
_CYRILLIC: dict[str, tuple[str, str]] = {
    "Russian": (_RU, "оеаинтсрвлкмдпуяыьз"),
    "Ukrainian": (_RU.translate(str.maketrans("", "", "ёъыэ")) + "єіїґ", "оаніирвтесклудмпзяьбгйчхцї"),
    "Bulgarian": (_RU.translate(str.maketrans("", "", "ёыэ")), "аоеинтрсвлк"),
    "Serbian": ("абвгдђежзијклљмнњопрстћуфхцчџш", "аоеинрстјвкл"),
    "Belarusian": (_RU.translate(str.maketrans("", "", "иъщ")) + "іў", "аоеынтсрвл"),
    "Macedonian": ("абвгдѓежзѕијклљмнњопрстќуфхцчџш", "аоеинтрсвл"),
}
_GREEK = "αβγδεζηθικλμνξοπρστυφχψωςάέήίόύώϊϋΐΰ"
# The most frequent letters of the scripts whose letters are all one language's.
_COMMON = {"Greek": "αοιετνσρκηπςυμλάέίόή", "Hebrew": "יוהלאמבנרתשכעדק", "Arabic": "اليمونهربتكدعفسقحجة",
           "Thai": "นากรอเมงดยวทสบคลตปะัี่้ิ"}

_WESTERN = ("English", "French", "German", "Spanish", "Portuguese", "Italian", "Dutch", "Danish", "Norwegian",
            "Swedish", "Finnish", "Icelandic", "Catalan", "Albanian", "Estonian")
_CENTRAL = ("Polish", "Czech", "Slovak", "Hungarian", "Romanian", "Croatian", "Slovene", "Albanian", "German",
            "English")
_BALTIC = ("Latvian", "Lithuanian", "Estonian", "English")
_CYR = tuple(_CYRILLIC)
# Code pages worth trying, most widely used first (that order breaks ties), and the languages each serves.
CODE_PAGES: dict[str, tuple[str, ...]] = {
    "cp1252": _WESTERN, "cp1250": _CENTRAL, "cp1251": _CYR, "koi8_r": _CYR, "koi8_u": _CYR,
    "iso8859_2": _CENTRAL, "iso8859_15": _WESTERN, "cp1253": ("Greek",), "cp1254": ("Turkish", *_WESTERN),
    "cp1257": _BALTIC, "shift_jis": ("Japanese",), "euc_jp": ("Japanese",), "gb18030": ("Chinese",),
    "big5": ("Chinese",), "euc_kr": ("Korean",), "cp1255": ("Hebrew",), "cp1256": ("Arabic",),
    "cp866": _CYR, "mac_roman": _WESTERN, "cp850": _WESTERN, "cp437": ("English",), "iso8859_5": _CYR,
    "iso8859_7": ("Greek",), "iso8859_13": _BALTIC, "cp775": _BALTIC, "cp874": ("Thai",), "cp1258": ("Vietnamese",),
    "iso8859_9": ("Turkish", *_WESTERN), "mac_cyrillic": _CYR, "cp852": _CENTRAL,
}
_WORD = re.compile(r"[^\W\d_]+")
_VOWELS = set("aeiouyáéíóúýàèìòùâêîôûäëïöüÿãõåæøœąęėįųūāēīőűăаеёиоуыэюяєіїў")
_CJK_COMMON = 0.9  # real Chinese and Japanese prose is nearly all first-level characters
_SPACED_IDEOGRAPHS = re.compile(r"(?<=[\u4e00-\u9fff]) (?=[\u4e00-\u9fff])")
_ALIKE = 0.15  # two readings this close in plausibility cannot be told apart


@dataclass(frozen=True)
class Reading:
    encoding: str
    language: str
    text: str
    score: float


def _script_letters(language: str, letters: list[str]) -> tuple[float, float] | None:
    """(share of letters in the language's alphabet, share of them that are its common ones), or None
    when a letter is outside the alphabet."""
    if language in _LATIN or language in _CYRILLIC:
        alphabet, common = (_LATIN | _CYRILLIC)[language]
        if any(c not in alphabet for c in letters):
            return None
        return 1.0, sum(c in common for c in letters) / len(letters)
    if language in _COMMON:
        block = language.upper()
        if not all(unicodedata.name(c, "").startswith(block) for c in letters):
            return None
        return 1.0, sum(c in _COMMON[language] for c in letters) / len(letters)
    return _east_asian(language, letters)


def _east_asian(language: str, letters: list[str]) -> tuple[float, float] | None:
    """Chinese, Japanese and Korean: every character of the script, most of them common ones (a
    mis-decoded byte string lands anywhere in the code space, real text in its first level)."""
    def level1(char: str, codec: str, first: int, last: int) -> bool:
        try:
            encoded = char.encode(codec)
        except UnicodeEncodeError:
            return False
        return len(encoded) == 2 and first <= encoded[0] <= last

    if language == "Chinese":
        if not all("CJK UNIFIED" in unicodedata.name(c, "") for c in letters):
            return None
        common = max(sum(level1(c, "gb2312", 0xB0, 0xD7) for c in letters),
                      sum(level1(c, "big5", 0xA4, 0xC6) for c in letters)) / len(letters)
        return (1.0, common) if common >= _CJK_COMMON else None
    if language == "Japanese":
        kana = sum(unicodedata.name(c, "").startswith(("HIRAGANA", "KATAKANA LETTER")) for c in letters)
        kanji = [c for c in letters if "CJK UNIFIED" in unicodedata.name(c, "")]
        if not kana or kana + len(kanji) < len(letters):  # half-width katakana soup is not Japanese prose
            return None
        common = (kana + sum(level1(c, "shift_jis", 0x88, 0x9F) for c in kanji)) / len(letters)
        return (1.0, common) if common >= _CJK_COMMON else None
    if language == "Korean":
        if not all(unicodedata.name(c, "").startswith("HANGUL SYLLABLE") for c in letters):
            return None
        return 1.0, sum(level1(c, "euc_kr", 0xB0, 0xC8) for c in letters) / len(letters)
    return None


def _script(char: str) -> str:
    if char.isascii():
        return "LATIN"
    name = unicodedata.name(char, "")
    if name.startswith(("CJK", "HIRAGANA", "KATAKANA", "HALFWIDTH KATAKANA")):
        return "CJK"
    return name.split(" ", 1)[0]


_USUAL_SYMBOLS = set("€£¥©®°±×÷·•§¶™¢µ¬¦")


def _words_whole(text: str) -> bool:
    """Every word holding a non-ASCII letter is in one script, no symbol sits next to a letter, and
    symbols beyond the usual few (€ © ° ± ...) are rare: box drawing and other graphics in prose are
    bytes read in the wrong code page."""
    for word in _WORD.findall(text):
        if not word.isascii() and len({_script(c) for c in word}) > 1:
            return False
    previous = ""
    for char in text:  # a script's own combining marks follow that script's letters
        own_mark = unicodedata.category(char).startswith("M") and not unicodedata.name(char, "").startswith("COMBINING")
        if own_mark and (not previous or _script(previous) != _script(char)):
            return False
        previous = char if unicodedata.category(char)[0] in "LM" else ""
    odd = 0
    for index, char in enumerate(text):
        if char.isascii() or not unicodedata.category(char).startswith(("S", "C")):
            continue
        neighbours = text[max(index - 1, 0):index] + text[index + 1:index + 2]
        if any(c.isalpha() for c in neighbours):
            return False
        odd += char not in _USUAL_SYMBOLS
    return odd <= len(text) // 200


def _all_capitals(text: str) -> float:
    """A penalty for prose in capitals throughout: a whole text in upper case is rarely what was
    written, and a caseless script read in a cased code page often comes out that way."""
    cased = [c for c in text if c.isupper() or c.islower()]
    if len(cased) < 8:
        return 0.0
    return 0.5 if sum(c.islower() for c in cased) < 0.2 * len(cased) else 0.0


def _cases_sane(text: str) -> float:
    """Share of cased words that are lower case, Title case or ALL CAPS."""
    words = [w for w in _WORD.findall(text) if any(c.isupper() for c in w) or any(c.islower() for c in w)]
    if not words:
        return 1.0
    sane = sum(w.islower() or w.isupper() or (w[0].isupper() and w[1:].islower()) for w in words)
    return float(sane) / len(words)


def reading(data: bytes, encoding: str) -> Reading | None:
    """The best-fitting language of this decoding and how plausible it is (None: not plausible)."""
    try:
        text = data.decode(encoding)
    except (UnicodeDecodeError, LookupError):
        return None
    if any("\x80" <= ch <= "\x9f" for ch in text):  # C1 controls: bytes this code page leaves undefined
        return None
    letters = [c.lower() for c in text if ord(c) > 127 and c.isalpha()]
    cases = _cases_sane(text)
    if cases < 0.9 or not _words_whole(text):
        return None
    if not letters:  # only punctuation beyond ASCII (typographic quotes, dashes): judged by the symbols alone
        odd = sum(unicodedata.category(c) in ("So", "Sk", "Co") for c in text if ord(c) > 127)
        return Reading(encoding, "English", text, 0.5 - odd) if odd == 0 else None
    ideographs = sum("\u4e00" <= c <= "\u9fff" for c in text)
    if ideographs and len(_SPACED_IDEOGRAPHS.findall(text)) > ideographs / 10:
        return None  # Chinese and Japanese put no spaces between words: this is another script's bytes
    best: Reading | None = None
    for language in CODE_PAGES[encoding]:
        fit = _script_letters(language, letters)
        if fit is None:
            continue
        if language in _LATIN or language in _CYRILLIC:
            words = [w.lower() for w in _WORD.findall(text) if len(w) > 1]
            silent = sum(not any(c in _VOWELS for c in w) for w in words)
            if words and silent > len(words) / 4:  # bytes of another script, not words one can say
                continue
        score = fit[1] + cases - 1.0 - _all_capitals(text)
        if best is None or score > best.score:
            best = Reading(encoding, language, text, score)
    return best or _several_languages(encoding, text, letters, cases)


def _several_languages(encoding: str, text: str, letters: list[str], cases: float) -> Reading | None:
    """A text in two languages of one code page (Polish and Czech, French with German names): its letters
    in the languages' alphabets together, judged a little less plausible than one language would be."""
    family = [name for name in CODE_PAGES[encoding] if name in _LATIN or name in _CYRILLIC]
    for first, second in itertools.combinations(family, 2):
        (one, one_common), (two, two_common) = [(_LATIN | _CYRILLIC)[name] for name in (first, second)]
        if all(c in one or c in two for c in letters):
            common = sum(c in one_common or c in two_common for c in letters) / len(letters)
            # Below any reading in one language: it wins only where no single language fits.
            return Reading(encoding, f"{first} and {second}", text, common + cases - 2.0 - _all_capitals(text))
    return None


def decode_legacy(data: bytes) -> tuple[str, str] | None:
    """(text, encoding) of a non-UTF-8 text; None when no code page reads it as any language (noise);
    ParseError when two readings are about as plausible (the encoding cannot be told for sure)."""
    readings = [found for encoding in CODE_PAGES if (found := reading(data, encoding)) is not None]
    if not readings:
        return None
    ranked = sorted(readings, key=lambda r: -r.score)  # stable: the more widely used code page first
    best = ranked[0]
    rivals = [r for r in ranked[1:] if r.text != best.text and best.score - r.score < _ALIKE]
    if rivals:
        shown = ", ".join(dict.fromkeys(f"{r.language} ({r.encoding})" for r in [best, *rivals][:3]))
        raise ParseError(CANNOT_TELL.format(readings=f" (it reads as {shown})"))
    return best.text, best.encoding
