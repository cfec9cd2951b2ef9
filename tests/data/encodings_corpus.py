"""Texts in many languages, and the legacy code pages they are saved in, for the encoding tests and
bench/encodings.py: each must be read right, or refused, never indexed as mojibake."""

from __future__ import annotations

# language -> (a short text, a longer one)
TEXTS: dict[str, tuple[str, str]] = {
    "French": ("Le café naïf à côté de l'église.",
               "Voix ambiguë d'un cœur qui, au zéphyr, préfère les jattes de kiwis. Le café est servi "
               "à côté de l'église, où l'on a déjà vu ce garçon naïf lire une très vieille lettre."),
    "Spanish": ("¿Dónde está la señora Muñoz?",
                "El veloz murciélago hindú comía feliz cardillo y kiwi. La cigüeña tocaba el saxofón "
                "detrás del palenque de paja, mientras la señora Muñoz preguntaba dónde está el niño."),
    "German": ("Größere Änderungen für Übersetzer.",
               "Falsches Üben von Xylophonmusik quält jeden größeren Zwerg. Die Änderungen für die "
               "Übersetzer müssen bis Freitag fertig sein, schöne Grüße aus dem Büro in Köln."),
    "Portuguese": ("A informação está na seção de ações.",
                   "À noite, vovô Kowalsky vê o ímã cair no pé do pinguim queixoso e vovó põe açúcar no "
                   "chá de tâmaras do jabuti feliz. A informação está na seção de ações."),
    "Polish": ("Zażółć gęślą jaźń.",
               "Pchnąć w tę łódź jeża lub ośm skrzyń fig. Zażółć gęślą jaźń, a potem wróć do pracy "
               "nad sprawozdaniem, które musi być gotowe przed świętami."),
    "Czech": ("Příliš žluťoučký kůň úpěl ďábelské ódy.",
              "Příliš žluťoučký kůň úpěl ďábelské ódy. Hleď, toť přízračný kůň v mátožné póze šíleně "
              "úpí. Zprávu je třeba dokončit do pátku, děkujeme za trpělivost."),
    "Hungarian": ("Árvíztűrő tükörfúrógép.",
                  "Árvíztűrő tükörfúrógép. Egy hűtlen vejét fülöncsípő, dühös mexikói úr Wesselényinél "
                  "mázol Quitóban és Pécsett, az örökös szőrös kölyök pedig ünnepel."),
    "Russian": ("Съешь же ещё этих мягких французских булок.",
                "Съешь же ещё этих мягких французских булок, да выпей чаю. В чащах юга жил бы цитрус? "
                "Да, но фальшивый экземпляр! Отчёт нужно закончить до пятницы."),
    "Ukrainian": ("Чуєш їх, доцю, га?",
                  "Чуєш їх, доцю, га? Кумедна ж ти, прощайся без ґольфів! Жебракують філософи при ґанку "
                  "церкви в Гадячі, ще й шатро їхнє п'яне знаємо."),
    "Greek": ("Ξεσκεπάζω την ψυχοφθόρα βδελυγμία.",
              "Ξεσκεπάζω την ψυχοφθόρα βδελυγμία. Γαζέες και μυρτιές δεν θα βρω πια στο χρυσαφί ξέφωτο. "
              "Η αναφορά πρέπει να ολοκληρωθεί μέχρι την Παρασκευή."),
    "Turkish": ("Pijamalı hasta yağız şoföre çabucak güvendi.",
                "Pijamalı hasta yağız şoföre çabucak güvendi. Raporun cuma gününe kadar bitmesi gerekiyor; "
                "görüşmek üzere, iyi çalışmalar dileriz."),
    "Latvian": ("Glāžšķūņa rūķīši dzērumā čiepj.",
                "Glāžšķūņa rūķīši dzērumā čiepj Baha koncertflīģeļu vākus. Atskaitei jābūt gatavai līdz "
                "piektdienai, paldies par pacietību."),
    "Lithuanian": ("Įlinkdama fechtuotojo špaga pragręžė arbūzą.",
                   "Įlinkdama fechtuotojo špaga sublykčiojusi pragręžė apvalų arbūzą. Ataskaita turi būti "
                   "baigta iki penktadienio, ačiū už kantrybę."),
    "Hebrew": ("דג סקרן שט בים מאוכזב",
               "דג סקרן שט בים מאוכזב ולפתע מצא חברה. הדוח צריך להיות מוכן עד יום שישי, תודה על הסבלנות."),
    "Arabic": ("نص حكيم له سر قاطع",
               "نص حكيم له سر قاطع وذو شأن عظيم مكتوب على ثوب أخضر ومغلف بجلد أزرق. يجب إنهاء التقرير يوم الجمعة."),
    "Japanese": ("いろはにほへと　ちりぬるを",
                 "色は匂へど散りぬるを　我が世誰ぞ常ならむ　有為の奥山今日越えて　浅き夢見じ酔ひもせず。"
                 "報告書は金曜日までに仕上げてください。"),
    "Chinese": ("我能吞下玻璃而不伤身体。",
                "我能吞下玻璃而不伤身体。报告需要在星期五之前完成，谢谢大家的耐心。会议改在下午三点。"),
    "Traditional Chinese": ("我能吞下玻璃而不傷身體。",
                            "我能吞下玻璃而不傷身體。報告需要在星期五之前完成，謝謝大家的耐心。會議改在下午三點。"),
    "Korean": ("다람쥐 헌 쳇바퀴에 타고파.",
               "다람쥐 헌 쳇바퀴에 타고파. 보고서는 금요일까지 완성해야 합니다. 회의는 오후 세 시로 옮겼습니다."),
    "Thai": ("เป็นมนุษย์สุดประเสริฐเลิศคุณค่า",
             "เป็นมนุษย์สุดประเสริฐเลิศคุณค่า กว่าบรรดาฝูงสัตว์เดรัจฉาน รายงานต้องเสร็จภายในวันศุกร์"),
}

# (language, code page): each text saved in each code page its people used.
SAVED_AS: list[tuple[str, str]] = [
    ("French", "cp1252"), ("French", "iso8859_15"), ("French", "mac_roman"), ("Spanish", "cp1252"),
    ("German", "cp1252"), ("German", "cp850"), ("Portuguese", "cp1252"),
    ("Polish", "cp1250"), ("Polish", "iso8859_2"), ("Czech", "cp1250"), ("Czech", "iso8859_2"),
    ("Hungarian", "cp1250"),
    ("Russian", "cp1251"), ("Russian", "koi8_r"), ("Russian", "cp866"), ("Ukrainian", "cp1251"),
    ("Ukrainian", "koi8_u"),
    ("Greek", "cp1253"), ("Greek", "iso8859_7"), ("Turkish", "cp1254"), ("Latvian", "cp1257"),
    ("Lithuanian", "cp1257"), ("Hebrew", "cp1255"), ("Arabic", "cp1256"),
    ("Japanese", "shift_jis"), ("Japanese", "euc_jp"), ("Chinese", "gb18030"), ("Traditional Chinese", "big5"),
    ("Korean", "euc_kr"), ("Thai", "cp874"),
]
