"""Imported by the crawl forkserver: runs the extractor and classifier once, so every forked crawl starts warm.

Their first call loads vocabularies and compiles patterns (about 1.6 s); done once here, each child inherits it.
"""

from __future__ import annotations

import logging

# Three short pages in the manner of union news (a year-end review, a congress, a gift visit that is not a meeting):
# the cue patterns are compiled on first use (feed.classify.cue_patterns._Lazy), and the words of ordinary pages
# reach most of those a crawl meets, so each forked crawl child no longer compiles them itself.
WARM_TEXTS = (
    (
        "Công đoàn ngành Công Thương tổng kết công tác năm 2025, triển khai nhiệm vụ năm 2026",
        "<p>Sáng 8/1/2026, tại Hà Nội, Ban Chấp hành Công đoàn ngành Công Thương tổ chức Hội nghị tổng kết công tác "
        "công đoàn năm 2025 và triển khai phương hướng, nhiệm vụ năm 2026. Đồng chí Nguyễn Văn Hùng, Chủ tịch Công "
        "đoàn ngành, chủ trì hội nghị; dự hội nghị có đại diện lãnh đạo Tổng Liên đoàn Lao động Việt Nam, Bộ Công "
        "Thương cùng 150 đại biểu là cán bộ công đoàn cơ sở.</p><p>Báo cáo tại hội nghị cho biết, trong năm qua các "
        "cấp công đoàn đã chăm lo đời sống, bảo vệ quyền, lợi ích hợp pháp của đoàn viên, người lao động; phát triển "
        "mới 3.200 đoàn viên, thành lập 12 công đoàn cơ sở; tổ chức đối thoại, thương lượng tập thể, ký kết thỏa ước "
        "lao động tập thể. Phát biểu chỉ đạo, đồng chí Phó Chủ tịch Tổng Liên đoàn ghi nhận, biểu dương kết quả đạt "
        "được và đề nghị năm 2026 tiếp tục đổi mới nội dung, phương thức hoạt động, sơ kết 6 tháng, chuẩn bị Đại "
        "hội Công đoàn các cấp nhiệm kỳ 2028 - 2033.</p><p>Dịp này, 25 tập thể và 40 cá nhân được tặng Bằng khen "
        "vì có thành tích xuất sắc trong phong trào thi đua.</p>",
    ),
    (
        "Đại hội Công đoàn cơ sở Công ty Cổ phần May Hưng Yên lần thứ V, nhiệm kỳ 2025 - 2030",
        "<p>Ngày 20/3/2025, Công đoàn cơ sở Công ty Cổ phần May Hưng Yên long trọng tổ chức Đại hội lần thứ V, "
        "nhiệm kỳ 2025 - 2030. Về dự đại hội có đồng chí Trần Thị Lan, Phó Chủ tịch Liên đoàn Lao động tỉnh; lãnh "
        "đạo công ty cùng 120 đại biểu đại diện cho hơn 1.800 đoàn viên. Đại hội đã thảo luận, thông qua báo cáo "
        "của Ban Chấp hành khóa IV, biểu quyết thông qua nghị quyết và bầu Ban Chấp hành khóa V gồm 9 đồng chí; "
        "đồng chí Lê Văn Nam tái đắc cử Chủ tịch Công đoàn cơ sở. Đại hội cũng bầu đoàn đại biểu dự Đại hội Công "
        "đoàn cấp trên.</p>",
    ),
    (
        "Liên đoàn Lao động thành phố trao 500 suất quà Tết cho công nhân có hoàn cảnh khó khăn",
        "<p>Chiều 25/1, Liên đoàn Lao động thành phố phối hợp với các doanh nghiệp trao 500 suất quà, mỗi suất trị "
        "giá 1 triệu đồng, cho công nhân lao động có hoàn cảnh khó khăn tại các khu công nghiệp. Chương trình "
        "“Tết Sum vầy” năm nay còn tặng 100 vé xe cho người lao động về quê đón Tết, thăm hỏi gia đình đoàn "
        "viên bị tai nạn lao động và trao Mái ấm Công đoàn. Theo kế hoạch, từ nay đến hết tháng 2, công đoàn các "
        "cấp sẽ tiếp tục tổ chức các hoạt động chăm lo, hướng dẫn thủ tục hưởng bảo hiểm xã hội.</p>",
    ),
)


WARM_URL = "http://127.0.0.1/tin/1.html"


def warm_page(title: str, body: str) -> str:
    """The page of one warm-up text, as a crawl would fetch it."""
    return f"<html><head><title>{title}</title></head><body><article><h1>{title}</h1>{body}</article>"


def warm_up() -> None:
    """Extract and classify a tiny page; failures are only logged (a cold child still works)."""
    try:
        from feed.classify.classifier import classify
        from feed.extract.article import extract

        for title, body in WARM_TEXTS:
            article = extract(warm_page(title, body), WARM_URL)
            classify(article.title, article.body_text, published_at=article.published_at, lead=article.lead)
    except Exception:  # the forkserver must start even if warming fails
        logging.getLogger(__name__).exception("warm-up failed")


warm_up()
