"""Vocabulary and sentence frames of the benchmark corpus (bench/dedup_corpus.py), written for it.

Union-news words: places, organisations, people, roles, meetings, and the frames reports are built from.
In frames, {slots} are filled from a report's slots (who, how many, when) and [fillers] from its skeleton.
"""

PROVINCES = (
    "Hà Nội", "Hải Phòng", "Đà Nẵng", "Cần Thơ", "Huế", "Thanh Hóa", "Nghệ An", "Hà Tĩnh", "Quảng Bình", "Quảng Trị",
    "Quảng Ngãi", "Bình Định", "Phú Yên", "Khánh Hòa", "Ninh Thuận", "Bình Thuận", "Kon Tum", "Gia Lai", "Đắk Lắk",
    "Đắk Nông", "Lâm Đồng", "Bình Phước", "Tây Ninh", "Bình Dương", "Đồng Nai", "Long An", "Tiền Giang", "Bến Tre",
    "Trà Vinh", "Vĩnh Long", "Đồng Tháp", "An Giang", "Kiên Giang", "Hậu Giang", "Sóc Trăng", "Bạc Liêu", "Cà Mau",
    "Hà Giang", "Cao Bằng", "Bắc Kạn", "Tuyên Quang", "Lào Cai", "Yên Bái", "Thái Nguyên", "Lạng Sơn", "Bắc Giang",
    "Phú Thọ", "Điện Biên", "Lai Châu", "Sơn La", "Hòa Bình", "Quảng Ninh", "Bắc Ninh", "Hải Dương", "Hưng Yên",
    "Thái Bình", "Hà Nam", "Nam Định", "Ninh Bình", "Vĩnh Phúc", "Quảng Nam", "Bà Rịa - Vũng Tàu",
)
DISTRICTS = (
    "Gia Lâm", "Đông Anh", "Thủy Nguyên", "Kiến Thụy", "Hòa Vang", "Phong Điền", "Tĩnh Gia", "Quỳnh Lưu", "Kỳ Anh",
    "Bố Trạch", "Hải Lăng", "Bình Sơn", "Hoài Nhơn", "Tuy An", "Cam Lâm", "Ninh Hải", "Hàm Thuận Bắc", "Đắk Hà",
    "Chư Sê", "Krông Pắc", "Đức Trọng", "Đồng Xoài", "Trảng Bàng", "Bến Cát", "Nhơn Trạch", "Đức Hòa", "Cái Bè",
    "Mỏ Cày", "Cầu Kè", "Long Hồ", "Cao Lãnh", "Châu Đốc", "Phú Quốc", "Vị Thanh", "Mỹ Xuyên", "Giá Rai", "Năm Căn",
    "Bắc Quang", "Trùng Khánh", "Chợ Mới", "Sơn Dương", "Bảo Thắng", "Văn Chấn", "Phổ Yên", "Hữu Lũng", "Việt Yên",
    "Lâm Thao", "Mường Ảng", "Tam Đường", "Mộc Châu", "Lương Sơn", "Đông Triều", "Từ Sơn", "Kinh Môn", "Văn Lâm",
    "Tiền Hải", "Duy Tiên", "Hải Hậu", "Gia Viễn", "Bình Xuyên",
)
SECTORS = (
    "Giáo dục", "Y tế", "Công Thương", "Giao thông vận tải", "Xây dựng", "Nông nghiệp", "Tài chính", "Ngân hàng",
    "Dệt May", "Điện lực", "Dầu khí", "Cao su", "Than - Khoáng sản", "Bưu điện", "Đường sắt", "Hàng không",
    "Thông tin và Truyền thông", "Văn hóa, Thể thao và Du lịch", "Tư pháp", "Nội vụ",
)
COMPANY_KINDS = ("Công ty TNHH", "Công ty Cổ phần", "Tổng Công ty", "Công ty TNHH MTV")
INDUSTRIES = (
    "May mặc", "Giày da", "Điện tử", "Thực phẩm", "Cơ khí", "Xi măng", "Bao bì", "Chế biến gỗ", "Thủy sản",
    "Dược phẩm", "Nhựa", "Thép", "Môi trường đô thị", "Cấp nước", "Xây lắp",
)
SYLLABLES = (
    "Hòa", "Phát", "Thành", "Minh", "Long", "An", "Phú", "Đức", "Tân", "Việt", "Hưng", "Thịnh", "Sơn", "Hải", "Nam",
    "Bắc", "Quang", "Trường", "Kim", "Bảo", "Gia", "Hồng", "Đông", "Tiến", "Vĩnh", "Lộc",
)
SURNAMES = (
    "Nguyễn", "Trần", "Lê", "Phạm", "Hoàng", "Huỳnh", "Phan", "Vũ", "Võ", "Đặng", "Bùi", "Đỗ", "Hồ", "Ngô", "Dương",
    "Lý", "Đinh", "Trịnh", "Mai", "Lương", "Tạ", "Cao", "Lâm", "Hà", "Tô", "Kiều", "Quách",
)
MIDDLES = (
    "Văn", "Thị", "Đức", "Minh", "Quang", "Thanh", "Hữu", "Ngọc", "Thu", "Hồng", "Xuân", "Đình", "Công", "Kim", "Anh",
    "Hoài", "Trọng", "Mạnh", "Bảo", "Phương", "Thế", "Diệu", "Khánh", "Tuấn",
)
GIVENS = (
    "An", "Bình", "Cường", "Dũng", "Giang", "Hà", "Hải", "Hạnh", "Hiền", "Hiếu", "Hòa", "Hùng", "Hương", "Khải",
    "Khang", "Lan", "Lâm", "Linh", "Long", "Lợi", "Mai", "Minh", "Nam", "Nga", "Ngân", "Nghĩa", "Nhung", "Oanh",
    "Phong", "Phúc", "Phượng", "Quân", "Quý", "Sơn", "Tâm", "Tân", "Thắng", "Thảo", "Thịnh", "Thủy", "Tiến", "Toàn",
    "Trang", "Trí", "Trung", "Tú", "Tuấn", "Tùng", "Uyên", "Vân", "Việt", "Vinh", "Xuân", "Yến", "Đông", "Đạt",
    "Điệp", "Huệ", "Kiên", "Loan", "Luân", "Ninh", "Quyên", "Sang",
)
ROLES = (
    "Chủ tịch", "Phó Chủ tịch", "Phó Chủ tịch Thường trực", "Ủy viên Ban Thường vụ", "Trưởng ban Tổ chức",
    "Trưởng ban Chính sách - Pháp luật", "Trưởng ban Tuyên giáo", "Trưởng ban Nữ công", "Chủ nhiệm Ủy ban Kiểm tra",
    "Trưởng ban Quan hệ lao động",
)
GUEST_ROLES = (
    "Phó Bí thư Tỉnh ủy", "Phó Chủ tịch Ủy ban nhân dân tỉnh", "Trưởng ban Dân vận Tỉnh ủy",
    "Phó Chủ tịch Tổng Liên đoàn Lao động Việt Nam", "Ủy viên Đoàn Chủ tịch Tổng Liên đoàn",
    "Giám đốc Sở Lao động - Thương binh và Xã hội", "Bí thư Đảng ủy Khối các cơ quan tỉnh",
)
MEETINGS = (
    ("Hội nghị tổng kết hoạt động công đoàn năm {year}, triển khai nhiệm vụ năm {next}", "tổng kết"),
    ("Hội nghị sơ kết công tác công đoàn 6 tháng đầu năm {year}", "sơ kết"),
    ("Hội nghị triển khai nhiệm vụ công tác năm {next}", "triển khai"),
    ("Đại hội công đoàn lần thứ {roman}, nhiệm kỳ {year}-{term}", "đại hội"),
    ("Hội nghị cán bộ, công chức, viên chức, người lao động năm {next}", "hội nghị cán bộ"),
    ("Hội nghị Ban Chấp hành lần thứ {n_small}, khóa {roman}", "hội nghị ban chấp hành"),
    ("Hội nghị sơ kết quý III và triển khai nhiệm vụ quý IV năm {year}", "sơ kết"),
    ("Hội nghị đối thoại giữa người sử dụng lao động và người lao động năm {year}", "đối thoại"),
)
ROMANS = ("II", "III", "IV", "V", "VI", "VII", "VIII", "IX", "X", "XI", "XII", "XIII")
DAY_PARTS = ("Sáng", "Chiều", "Ngày", "Tối", "Sáng ngày", "Chiều ngày")
PLACES = (
    "hội trường trụ sở", "Trung tâm Hội nghị tỉnh", "Nhà Văn hóa Lao động", "hội trường Ủy ban nhân dân",
    "Cung Văn hóa Lao động", "trụ sở cơ quan", "hội trường Khu công nghiệp", "Trường Chính trị tỉnh",
)
GROUPS = (
    "đoàn viên, người lao động", "cán bộ, công chức, viên chức", "công nhân lao động", "nữ đoàn viên",
    "đoàn viên có hoàn cảnh khó khăn", "người lao động trong các doanh nghiệp", "cán bộ công đoàn cơ sở",
    "giáo viên, nhân viên", "y bác sĩ, nhân viên y tế", "công nhân các khu công nghiệp",
)
ACTIVITIES = (
    "tổ chức đối thoại định kỳ tại nơi làm việc", "ký kết thỏa ước lao động tập thể", "thăm hỏi, tặng quà",
    "tổ chức khám sức khỏe định kỳ", "xây dựng Mái ấm Công đoàn", "tổ chức Tết Sum vầy",
    "trao học bổng cho con đoàn viên", "tập huấn nghiệp vụ công tác công đoàn", "tổ chức hội thao công nhân",
    "tuyên truyền pháp luật lao động", "phát động phong trào thi đua lao động giỏi",
    "giám sát việc thực hiện chế độ, chính sách", "tổ chức Chương trình Bữa cơm Công đoàn",
    "hỗ trợ vé xe cho công nhân về quê đón Tết", "tổ chức Tháng hành động về an toàn, vệ sinh lao động",
    "phát triển đoàn viên tại doanh nghiệp ngoài nhà nước", "tham gia giải quyết tranh chấp lao động",
    "tổ chức tư vấn pháp luật miễn phí", "xây dựng thiết chế công đoàn", "thành lập công đoàn cơ sở mới",
    "bồi dưỡng cán bộ công đoàn trẻ", "biểu dương công nhân lao động tiêu biểu", "tổ chức ngày hội việc làm",
    "vận động ủng hộ Quỹ Xã hội Công đoàn", "triển khai Chương trình Phúc lợi đoàn viên",
    "tổ chức Hội thi an toàn vệ sinh viên giỏi", "hưởng ứng cuộc vận động xây dựng người cán bộ công đoàn",
    "đẩy mạnh phong trào lao động sáng tạo", "tổ chức Ngày hội Gia đình công nhân",
    "thương lượng tăng lương tối thiểu",
)
ADVERBS = (
    "kịp thời", "thiết thực", "hiệu quả", "đúng quy định", "sâu rộng", "chủ động", "đồng bộ", "linh hoạt",
    "có trọng tâm, trọng điểm", "bài bản", "nghiêm túc", "sáng tạo",
)
GOALS = (
    "chăm lo đời sống vật chất, tinh thần cho đoàn viên", "bảo vệ quyền, lợi ích hợp pháp của người lao động",
    "xây dựng quan hệ lao động hài hòa, ổn định, tiến bộ", "nâng cao vai trò đại diện của tổ chức công đoàn",
    "thực hiện thắng lợi nhiệm vụ chính trị của đơn vị", "củng cố niềm tin của người lao động với tổ chức công đoàn",
    "đẩy mạnh phát triển đoàn viên, thành lập công đoàn cơ sở", "xây dựng giai cấp công nhân lớn mạnh",
    "nâng cao chất lượng hoạt động của công đoàn cơ sở", "phòng ngừa tranh chấp lao động, ngừng việc tập thể",
)
DIFFICULTIES = (
    "việc phát triển đoàn viên ở doanh nghiệp nhỏ và vừa còn chậm",
    "tình trạng nợ đóng bảo hiểm xã hội vẫn còn ở một số doanh nghiệp",
    "một số công đoàn cơ sở hoạt động còn hình thức", "đội ngũ cán bộ công đoàn cơ sở thường xuyên biến động",
    "thu nhập của một bộ phận người lao động còn thấp", "công tác nắm bắt tư tưởng công nhân có lúc chưa kịp thời",
    "nguồn lực tài chính công đoàn còn hạn chế", "việc ký kết thỏa ước ở doanh nghiệp FDI còn khó khăn",
)
TASKS = (
    "nâng cao chất lượng đối thoại và thương lượng tập thể", "chăm lo Tết cho đoàn viên, người lao động",
    "chuẩn bị tốt cho đại hội công đoàn các cấp", "đổi mới nội dung, phương thức hoạt động công đoàn",
    "tăng cường kiểm tra, giám sát tài chính công đoàn", "đẩy mạnh chuyển đổi số trong hoạt động công đoàn",
    "nắm chắc tình hình việc làm, tiền lương của người lao động", "phát triển đoàn viên gắn với xây dựng tổ chức",
    "tham gia xây dựng Đảng, xây dựng hệ thống chính trị", "tuyên truyền Bộ luật Lao động đến công nhân",
)
PRAISE = (
    "ghi nhận những kết quả mà các cấp công đoàn đạt được", "đánh giá cao sự nỗ lực của đội ngũ cán bộ công đoàn",
    "biểu dương tinh thần trách nhiệm của Ban Chấp hành", "khẳng định vai trò của tổ chức công đoàn",
    "chúc mừng những thành tích nổi bật trong năm qua",
)
SYNONYMS = (
    ("tổ chức", "tiến hành"), ("đề nghị", "yêu cầu"), ("tham dự", "dự"), ("kết quả", "thành quả"),
    ("nhấn mạnh", "khẳng định"), ("thời gian tới", "thời gian sắp tới"), ("đồng thời", "bên cạnh đó"),
)
OUTLETS = (
    "Báo Lao Động", "Báo Người Lao Động", "Cổng thông tin Công đoàn Việt Nam", "Báo {prov}",
    "Đài Phát thanh và Truyền hình {prov}", "Tạp chí Lao động và Công đoàn", "{domain}",
)
DOMAINS = ("laodong.vn", "nld.com.vn", "congdoan.vn", "baochinhphu.vn", "dangcongsan.vn")

# What an outlet adds when it cuts a report down: its own paragraph of context.
EDITOR_NOTES = (
    "Theo ghi nhận của phóng viên, {org} là một trong những đơn vị dẫn đầu phong trào thi đua của tỉnh nhiều năm "
    "liền, được Tổng Liên đoàn Lao động Việt Nam tặng Cờ thi đua xuất sắc.",
    "Được biết, năm {year} là năm đầu tiên {org_short} triển khai chương trình chăm lo cho đoàn viên theo hướng số "
    "hóa, giúp việc hỗ trợ đến tay người lao động nhanh và minh bạch hơn.",
    "Trước đó, trong tháng {date}, lãnh đạo {org_short} đã làm việc với nhiều doanh nghiệp để nắm tình hình việc "
    "làm, thu nhập của người lao động dịp cuối năm.",
)
# Sentence frames: {slots} come from the slot stream (who, how many, when); [fillers] from the skeleton stream.
OPENINGS = (
    "{daypart} {date}, {org} {verb} {meeting}.", "{daypart} {date}, tại {place}, {org} đã {verb} {meeting}.",
    "Trong {date_span}, {org} {verb} {meeting} với sự tham dự của {n} đại biểu.",
)
ATTEND = (
    "Tham dự {meeting_short} có đồng chí {guest}, {guest_role}; đồng chí {chair}, {role} {org_short}.",
    "Dự và chỉ đạo {meeting_short} có đồng chí {guest}, {guest_role}, cùng {n} đại biểu đại diện cho hơn {big} "
    "[group].",
    "Đồng chí {chair}, {role} {org_short} chủ trì {meeting_short}; dự có đồng chí {guest}, {guest_role}.",
)
BODY = (
    "[span], các cấp công đoàn đã [activity] cho {big} [group], [goal_v] [goal].",
    "Báo cáo tại {meeting_short} cho biết, [span] {org_short} đã [activity], đạt {pct}% kế hoạch năm.",
    "Công đoàn đã [adverb] [activity], thu hút {big} [group] tham gia với tổng kinh phí {money} tỷ đồng.",
    "Toàn {scope} có {n} công đoàn cơ sở [activity]; {n2} bản thỏa ước được ký mới, sửa đổi, bổ sung.",
    "Số đoàn viên kết nạp mới là {big} người, thành lập mới {n} công đoàn cơ sở, vượt {pct}% chỉ tiêu được giao.",
    "Bên cạnh kết quả đạt được, {meeting_short} cũng chỉ ra [difficulty]; [difficulty2].",
    "Các đại biểu đã tập trung thảo luận, làm rõ nguyên nhân của hạn chế và đề xuất giải pháp để [task].",
    "Năm qua, phong trào [activity] được triển khai [adverb], góp phần [goal].",
    "{org_short} phối hợp với chuyên môn [activity] tại {n} doanh nghiệp, giúp {big} [group] yên tâm làm việc.",
    "Tổng số tiền chăm lo cho [group] [span_low] là {money} tỷ đồng, tăng {pct}% so với cùng kỳ.",
    "Đã có {n} sáng kiến, cải tiến kỹ thuật được công nhận, làm lợi {money} tỷ đồng cho các đơn vị.",
    "Công tác kiểm tra, giám sát được thực hiện [adverb] tại {n} đơn vị, qua đó [goal_v] [goal].",
    "Hoạt động [activity] tiếp tục được duy trì [adverb], tạo sự gắn bó giữa [group] với tổ chức công đoàn.",
    "Ban Chấp hành đã ban hành {n} văn bản hướng dẫn, chỉ đạo nhằm [task].",
    "Thu nhập bình quân của người lao động ước đạt {small},{n_digit} triệu đồng/tháng, tăng {pct_small}% so với "
    "năm trước.",
    "Trên địa bàn xảy ra {n_small} cuộc ngừng việc tập thể, đều được công đoàn phối hợp giải quyết [adverb].",
    "Ủy ban Kiểm tra các cấp đã kiểm tra {n} công đoàn cơ sở, phát hiện và hướng dẫn khắc phục {n2} sai sót.",
    "Đáng chú ý, [activity] đã trở thành hoạt động thường xuyên, được [group] đồng tình hưởng ứng.",
    "Với phương châm hướng về cơ sở, [span_low] cán bộ công đoàn đã đến {n} doanh nghiệp để [activity].",
    "Qua bình xét, có {pct_small}% công đoàn cơ sở đạt tiêu chuẩn hoàn thành tốt nhiệm vụ, {n} đơn vị xuất sắc.",
    "Quỹ Xã hội Công đoàn [span_low] đã tiếp nhận {money} tỷ đồng, hỗ trợ {big} lượt [group].",
    "Nhiều mô hình hay như [activity], [activity2] được nhân rộng, mang lại lợi ích thiết thực cho [group].",
    "Trong công tác tuyên truyền, công đoàn đã phối hợp mở {n} lớp học tập pháp luật cho {big} [group].",
    "Việc [activity] được thực hiện [adverb] ở {n} đơn vị, bảo đảm công khai, dân chủ.",
    "Hội thi, hội diễn văn nghệ quần chúng thu hút {n} đội với {big} diễn viên không chuyên là [group].",
    "Chương trình Mái ấm Công đoàn [span_low] đã hỗ trợ xây mới, sửa chữa {n} căn nhà, tổng trị giá {money} tỷ đồng.",
    "Công tác nữ công được quan tâm, {pct_small}% đơn vị có ban nữ công quần chúng hoạt động [adverb].",
    "Đến nay, toàn {scope} có {big} đoàn viên sinh hoạt tại {n} công đoàn cơ sở.",
)
FREE_OPENINGS = (
    "{daypart} {date}, {org} [activity] cho {big} [group] tại {place}.",
    "Hưởng ứng Tháng Công nhân, {org} vừa [activity], thu hút đông đảo [group] tham gia.",
)
SPEECH = (
    "Phát biểu chỉ đạo, đồng chí {guest} [praise]; đồng thời đề nghị {org_short} tập trung [task], [task].",
    "Phát biểu tại {meeting_short}, đồng chí {guest} [praise] và nhấn mạnh thời gian tới cần [task].",
    "Kết luận {meeting_short}, đồng chí {chair} đề nghị các cấp công đoàn [adverb] [task] và [task].",
)
CLOSINGS = (
    "Dịp này, {org_short} đã khen thưởng {n} tập thể và {n2} cá nhân có thành tích xuất sắc.",
    "Nhân dịp này, {n} tập thể, {n2} cá nhân được nhận Bằng khen của Tổng Liên đoàn Lao động Việt Nam.",
    "{meeting_short} đã biểu quyết thông qua chương trình công tác năm {next} với {n} chỉ tiêu trọng tâm.",
    "Cũng tại {meeting_short}, {org_short} trao {n} suất quà cho [group], mỗi suất trị giá {small} triệu đồng.",
)
FILLERS = {
    "span": (
        "Trong năm", "6 tháng đầu năm", "Từ đầu năm đến nay", "Trong quý III", "Trong nhiệm kỳ qua",
        "Trong thời gian qua", "Năm qua", "Trong dịp Tháng Công nhân",
    ),
    "span_low": (
        "trong năm", "6 tháng đầu năm", "từ đầu năm đến nay", "trong quý III", "trong nhiệm kỳ qua",
        "trong thời gian qua", "năm qua", "trong dịp Tết",
    ),
    "activity2": ACTIVITIES,
    "difficulty2": DIFFICULTIES,
    "activity": ACTIVITIES,
    "group": GROUPS,
    "adverb": ADVERBS,
    "goal": GOALS,
    "difficulty": DIFFICULTIES,
    "task": TASKS,
    "praise": PRAISE,
    "goal_v": ("góp phần", "nhằm", "qua đó", "từng bước", "thiết thực"),
}
# Figures are drawn afresh at each mention from the slots' own stream: (low, high) for each name.
FIGURES = {
    "n": (3, 400),
    "n2": (5, 300),
    "big": (500, 90000),
    "pct": (101, 180),
    "small": (1, 9),
    "n_digit": (1, 9),
    "pct_small": (3, 98),
    "n_small": (1, 12),
}
