"""Frequencies the synthetic population draws from (names, ages, diseases, vaccines).

Family-name shares follow the commonly cited survey figures (Nguyễn about 38%, Trần 11%, Lê 9.5%,
Phạm 7%, Hoàng/Huỳnh 5%, Phan 4.5%, Vũ/Võ 4%, ...); the age structure follows the 2019 census
pyramid in 5-year groups. These are inputs of a test-data generator, not reference data.
"""

from __future__ import annotations

FAMILY_NAMES: list[tuple[str, float]] = [
    ("Nguyễn", 38.0), ("Trần", 11.0), ("Lê", 9.5), ("Phạm", 7.0), ("Hoàng", 3.0), ("Huỳnh", 2.0),
    ("Phan", 4.5), ("Vũ", 2.2), ("Võ", 1.8), ("Đặng", 2.1), ("Bùi", 2.0), ("Đỗ", 1.4), ("Hồ", 1.3),
    ("Ngô", 1.3), ("Dương", 1.0), ("Lý", 0.5), ("Đinh", 0.9), ("Trương", 0.9), ("Lương", 0.6),
    ("Mai", 0.6), ("Trịnh", 0.6), ("Đoàn", 0.5), ("Lâm", 0.5), ("Cao", 0.4), ("Tạ", 0.3), ("Hà", 0.4),
    ("Chu", 0.3), ("Kiều", 0.2), ("Thái", 0.2), ("Tô", 0.3), ("Vương", 0.2), ("Lưu", 0.3), ("Châu", 0.2),
    ("Doãn", 0.1), ("Tôn Nữ", 0.05), ("Tôn Thất", 0.05),
]  # fmt: skip
MIDDLE_MALE = [("Văn", 30), ("Đức", 8), ("Minh", 8), ("Quốc", 6), ("Hữu", 6), ("Thanh", 5), ("Công", 5),
               ("Quang", 5), ("Xuân", 4), ("Ngọc", 3), ("Tuấn", 3), ("Hoàng", 3), ("Anh", 3), ("Đình", 4),
               ("Trọng", 3), ("Gia", 3), ("Bảo", 3)]
MIDDLE_FEMALE = [("Thị", 40), ("Ngọc", 8), ("Thu", 6), ("Thanh", 6), ("Minh", 5), ("Hồng", 5), ("Kim", 4),
                 ("Phương", 4), ("Thùy", 4), ("Mỹ", 3), ("Bảo", 3), ("Khánh", 3), ("Hoài", 3), ("Diệu", 2)]
GIVEN_MALE = ["Anh", "Bình", "Cường", "Dũng", "Duy", "Đạt", "Đông", "Giang", "Hải", "Hiếu", "Hòa", "Hoàng",
              "Hùng", "Huy", "Khang", "Khoa", "Khôi", "Kiên", "Lâm", "Long", "Luân", "Mạnh", "Minh", "Nam",
              "Nghĩa", "Nhân", "Phong", "Phúc", "Quân", "Quang", "Quý", "Sơn", "Tài", "Thắng", "Thành", "Thịnh",
              "Toàn", "Trí", "Trung", "Tú", "Tuấn", "Tùng", "Việt", "Vinh", "Vũ", "Khải", "Lộc", "Tâm", "Thái",
              "Hậu", "Hưng", "Kiệt", "An", "Bảo", "Đức", "Hiển", "Nguyên", "Phát", "Thiện", "Thuận"]
GIVEN_FEMALE = ["Anh", "Chi", "Dung", "Duyên", "Giang", "Hà", "Hạnh", "Hằng", "Hiền", "Hoa", "Hòa", "Hồng",
                "Huệ", "Hương", "Huyền", "Lan", "Linh", "Loan", "Mai", "My", "Nga", "Ngân", "Ngọc", "Nhung",
                "Oanh", "Phương", "Quỳnh", "Thảo", "Thu", "Thủy", "Thúy", "Trang", "Trinh", "Uyên", "Vân",
                "Yến", "Hoài", "Diệp", "Khánh", "Loan", "Nhi", "Tâm", "Thanh", "Thơ", "Tuyết", "Xuân", "Ánh",
                "Châu", "Diễm", "Hậu", "Liên", "Ly", "Nhàn", "Phượng", "Quyên", "Sương", "Thoa", "Vy"]
# Share of the population in each 5-year age group, 0-4 ... 80+ (2019 census, rounded).
AGE_GROUPS = [8.3, 8.2, 7.4, 6.9, 6.6, 7.9, 8.4, 8.0, 7.4, 6.8, 6.4, 5.8, 4.8, 3.5, 2.3, 1.5, 1.8]

# Vaccines of the expanded programme: code, Vietnamese name, age in days of each dose.
SCHEDULE: list[tuple[str, str, list[int]]] = [
    ("VGB0", "Viêm gan B sơ sinh", [0]),
    ("BCG", "Lao (BCG)", [7]),
    ("DPT-VGB-HIB", "Vắc xin 5 trong 1", [60, 90, 120]),
    ("OPV", "Bại liệt uống (OPV)", [60, 90, 120]),
    ("IPV", "Bại liệt tiêm (IPV)", [150]),
    ("SOI", "Sởi", [270]),
    ("DPT", "Bạch hầu - Ho gà - Uốn ván (nhắc)", [540]),
    ("MR", "Sởi - Rubella", [540]),
    ("VNNB", "Viêm não Nhật Bản", [365, 375, 730]),
]
# Acute diagnoses with a weight and, where seasonal, the months they peak in.
ACUTE: list[tuple[str, float, tuple[int, ...]]] = [
    ("J06.9", 20, (1, 2, 3, 11, 12)), ("J18.9", 6, (1, 2, 12)), ("A09", 8, (5, 6, 7, 8)),
    ("A90", 4, (6, 7, 8, 9, 10, 11)), ("A91", 1, (7, 8, 9, 10)), ("K29.7", 8, ()), ("M54.5", 6, ()),
    ("S06.0", 2, ()), ("T14.0", 3, ()), ("B01.9", 2, (2, 3, 4)), ("B05.9", 1, (1, 2, 3)),
    ("H10.9", 3, (4, 5, 6)), ("N39.0", 4, ()), ("R50.9", 5, ()), ("J45.9", 2, ()), ("E78.5", 3, ()),
]  # fmt: skip

# How often each given name (folded: no tone marks) occurs among 115,000 Vietnamese full names, from
# toanluu/vietname `first_names.tsv` (github.com/toanluu/vietname, statistics of a name list gathered
# from the web). The `dense` profile draws given names in these proportions instead of uniformly, so
# that common names (Anh 3.4%, Linh 2.2%, Phương 1.8%, ...) repeat as often as in the country. A
# folded name shared by two spellings or both sexes (Thủy/Thúy, Hòa) counts for each.
GIVEN_NAME_COUNTS: dict[str, int] = {
    "an": 1174, "anh": 3945, "bao": 643, "binh": 692, "chau": 571, "chi": 686, "cuong": 811, "dat": 853,
    "diem": 240, "diep": 275, "dong": 293, "duc": 939, "dung": 1372, "duy": 1005, "duyen": 601, "giang": 836,
    "ha": 1123, "hai": 804, "hang": 656, "hanh": 577, "hau": 417, "hien": 965, "hieu": 1023, "hoa": 1040,
    "hoai": 210, "hoang": 876, "hong": 480, "hue": 378, "hung": 1399, "huong": 1105, "huy": 1306, "huyen": 737,
    "khai": 249, "khang": 503, "khanh": 1002, "khoa": 559, "khoi": 318, "kien": 341, "kiet": 248, "lam": 704,
    "lan": 538, "lien": 302, "linh": 2541, "loan": 442, "loc": 469, "long": 838, "luan": 285, "ly": 653,
    "mai": 688, "manh": 287, "minh": 1351, "my": 983, "nam": 942, "nga": 592, "ngan": 1032, "nghia": 549,
    "ngoc": 1224, "nguyen": 1059, "nhan": 733, "nhi": 1431, "nhung": 513, "oanh": 412, "phat": 446,
    "phong": 675, "phuc": 812, "phuong": 2050, "quan": 663, "quang": 702, "quy": 317, "quyen": 710,
    "quynh": 863, "son": 894, "suong": 125, "tai": 529, "tam": 756, "thai": 408, "thang": 715, "thanh": 1884,
    "thao": 1203, "thien": 598, "thinh": 520, "tho": 296, "thoa": 122, "thu": 1175, "thuan": 516, "thuy": 1348,
    "toan": 635, "trang": 1422, "tri": 381, "trinh": 785, "trung": 713, "tu": 902, "tuan": 981, "tung": 539,
    "tuyet": 257, "uyen": 918, "van": 1004, "viet": 409, "vinh": 659, "vu": 605, "vy": 1217, "xuan": 327,
    "yen": 707,
}  # fmt: skip
TWIN_SHARE = 0.02  # of children in the dense profile: a twin, born the same day, another given name
