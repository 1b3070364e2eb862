// HoSo's pages share this file: translations (Vietnamese first, English as an option), the signed-in
// session, calls to the API, and the small SVG charts the pages draw. Nothing is loaded from elsewhere.
"use strict";

const TEXT = {
  vi: {
    app: "HoSo – Hồ sơ sức khỏe", signin: "Đăng nhập", username: "Tên đăng nhập", password: "Mật khẩu",
    signout: "Đăng xuất", language: "English", wrong_login: "Sai tên đăng nhập hoặc mật khẩu",
    queue: "Hàng chờ rà soát", backlog: "Tồn đọng", province: "Tỉnh", source: "Nguồn", filter: "Lọc",
    match: "Cùng một người", no_match: "Không phải", skip: "Bỏ qua", merge: "Gộp hai người",
    not_duplicate: "Không trùng", field: "Trường", left: "Bản ghi", right: "Người", weight: "Trọng số",
    probability: "Xác suất", empty_queue: "Không còn mục nào cần rà soát", note: "Ghi chú",
    weights_chart: "Đóng góp của từng trường (bit)", decided: "Đã quyết định", stale: "Mục đã thay đổi, tải lại",
    my_record: "Hồ sơ sức khỏe", administrative: "Thông tin hành chính", history: "Tiền sử và yếu tố nguy cơ",
    immunizations: "Tiêm chủng", next_doses: "Mũi tiêm sắp tới", visits: "Khám chữa bệnh", children: "Con",
    household: "Hộ gia đình", correction: "Đề nghị sửa thông tin", phone: "Điện thoại", address: "Địa chỉ",
    send: "Gửi", sent: "Đã gửi", self_report: "Tự khai báo sức khỏe", smoking: "Hút thuốc lá",
    allergies: "Dị ứng (phân cách bằng dấu phẩy)", systolic: "Huyết áp tâm thu", diastolic: "Huyết áp tâm trương",
    refused: "Bạn không có quyền xem hồ sơ này", search: "Tìm", name: "Họ tên", birth_date: "Ngày sinh",
    sex: "Giới tính", personal_id: "Số định danh", vaccine: "Vắc xin", dose: "Mũi", date: "Ngày",
    facility: "Cơ sở", diagnosis: "Chẩn đoán", dashboard: "Bảng điều khiển dịch tễ", period: "Kỳ",
    level: "Cấp", unit: "Đơn vị", show: "Xem", pyramid: "Tháp dân số", incidence: "Số ca theo tháng",
    coverage: "Trẻ dưới 1 tuổi tiêm chủng đầy đủ (%)", map: "Bản đồ tiêm chủng đầy đủ", download: "Tải báo cáo CSV",
    admin: "Quản trị", users: "Tài khoản", audit: "Nhật ký truy cập", jobs: "Lượt nhập dữ liệu",
    batches: "Lô dữ liệu", set_aside: "Tạm gác lại", restore: "Khôi phục", retry: "Chạy lại", cancel: "Hủy",
    reason: "Lý do", actions: "Thao tác", linkable: "Sẵn sàng liên kết", created: "Ngày tạo",
    corrections: "Đề nghị sửa thông tin", quarantine: "Bản ghi bị cách ly", role: "Vai trò", state: "Trạng thái",
    due: "đến hạn", overdue: "quá hạn", upcoming: "sắp tới", source_record: "Nguồn",
    value: "Giá trị", new_value: "Giá trị mới", male: "Nam", female: "Nữ", file: "Tệp", method: "Phương thức",
    endpoint: "Đường dẫn", status: "Mã trả về", current: "Hiện tại", person: "Người", counts: "Đọc / nhận / cách ly / liên kết",
    kind: "Loại", position: "Vị trí", reason: "Lý do",
    kind_record: "Bản ghi → người", kind_persons: "Hai người", conflicts: "Xung đột", with_conflicts: "Có xung đột",
    without_conflicts: "Không xung đột", sort: "Sắp xếp", sort_uncertain: "Khó quyết nhất", sort_age: "Chờ lâu nhất",
    backlog_by: "Tồn đọng theo tỉnh và nguồn", empty_filter: "Không có mục nào khớp bộ lọc này", days: "ngày",
    belongs_to: "Bản ghi đang thuộc về", awaits_second: "Chờ người rà soát thứ hai", count: "Số mục",
    conflict_personal_id: "Số định danh khác nhau", conflict_bhxh: "Số BHXH khác nhau", conflict_sex: "Giới tính khác nhau",
    conflict_birth: "Năm sinh cách xa nhau", level: "Mức so khớp", near: "lệch một phím",
    field_family: "Họ", field_middle: "Tên đệm", field_given: "Tên", field_birth_date: "Ngày sinh", field_sex: "Giới tính",
    field_personal_id: "Số định danh", field_cmnd: "CMND", field_bhxh: "Số BHXH", field_other_id: "Mã khác",
    field_phone: "Điện thoại", field_household_code: "Mã hộ", field_address_text: "Địa chỉ", field_commune: "Xã/phường", formerly: "trước đây",
    golden_of: "Hồ sơ gộp của", records_of: "Các bản ghi của người này", conflicts_found: "Dừng lại:",
    conflicts_explain: "Hai bên mang thông tin không thể của cùng một người. Muốn vẫn ghép, hãy đánh dấu ghi đè và viết lý do (ít nhất 20 ký tự).",
    pair_scored: "Cặp bản ghi đã chấm điểm", override: "Ghi đè xung đột (cần lý do)", context: "Bối cảnh",
    history_and_cluster: "Lịch sử, hoàn tác và cụm bản ghi", undo: "Hoàn tác", undone: "Đã hoàn tác",
    undo_reason: "Hoàn tác từ bàn rà soát", override_requested: "Đã ghi nhận ghi đè, chờ người rà soát thứ hai xác nhận",
    decision_MATCH: "cùng một người", decision_NO_MATCH: "không phải", decision_MERGE: "đã gộp hai người",
    decision_NOT_DUPLICATE: "không trùng", cluster: "Cụm bản ghi (trọng số trên mỗi cạnh)",
    split_explain: "Chọn các bản ghi thuộc về một người khác rồi tách", split: "Tách người", split_done: "Đã tách thành",
    level_exact: "trùng khớp", level_similar: "gần giống", level_missing: "thiếu ở một bên", level_different: "khác nhau",
    level_one_keystroke: "lệch một phím", level_exact_consistent: "trùng, khớp giới tính và năm sinh",
    level_family_variant: "biến thể họ (Hoàng = Huỳnh, Vũ = Võ)", level_swapped: "đảo tên đệm và tên",
    level_one_letter: "lệch một chữ", level_day_month_swapped: "đảo ngày và tháng",
    level_year_partial: "cùng năm, một bên chỉ có năm hoặc tháng", level_same_month: "cùng tháng và năm",
    level_same_year: "chỉ cùng năm", level_within_year: "lệch trong vòng một năm", level_same_commune: "cùng xã",
    level_province_no_commune: "cùng tỉnh, một bên thiếu xã",
    level_postcode_no_commune: "cùng mã bưu chính, một bên thiếu xã", level_same_province: "cùng tỉnh",
    level_same_person_shared: "dùng chung, cùng tên và năm sinh", prior: "Tiên nghiệm",
    link_history: "Lịch sử liên kết", family: "Gia đình", relation_child: "con", relation_parent: "cha/mẹ",
    phone_hint: "Số điện thoại Việt Nam: 10 chữ số bắt đầu bằng 0 (như 0912345678)",
    source_population: "Cơ sở dữ liệu dân cư", source_commune831: "Trạm y tế xã", source_hospital130: "Bệnh viện",
    source_immunization: "Hệ thống tiêm chủng", source_fhir: "Hệ thống y tế khác", source_csv: "Tệp của cơ sở",
    scope_national: "Toàn quốc", scope_province: "Tỉnh, thành phố", scope_district: "Quận, huyện (trước 2025)",
    scope_commune: "Xã, phường", district_code: "Mã huyện (trước 2025)", dashboard_error: "Không xem được số liệu:",
    as_of: "Số liệu tính đến", persons: "Số người", age_band: "Nhóm tuổi", month: "Tháng", cases: "Số ca",
    percent_fic: "Tỷ lệ tiêm chủng đầy đủ (%)", no_data: "Không có số liệu hoặc dưới 5 trẻ",
    coverage_lowest: "{n} đơn vị có tỷ lệ thấp nhất trong {all}.", coverage_withheld: "{n} đơn vị dưới 5 trẻ không hiển thị.",
    coverage_none: "Không đơn vị nào đủ 5 trẻ để hiển thị.",
    longitude: "Kinh độ", latitude: "Vĩ độ", map_note: "Mỗi điểm là trung tâm một đơn vị, tô màu theo tỷ lệ tiêm chủng đầy đủ; bản đồ không có ranh giới hành chính.",
    icd_I: "Bệnh nhiễm trùng và ký sinh trùng", icd_II: "Bướu tân sinh", icd_III: "Bệnh máu, cơ quan tạo máu và miễn dịch",
    icd_IV: "Bệnh nội tiết, dinh dưỡng và chuyển hóa", icd_V: "Rối loạn tâm thần và hành vi", icd_VI: "Bệnh hệ thần kinh",
    icd_VII: "Bệnh mắt và phần phụ", icd_VIII: "Bệnh tai và xương chũm", icd_IX: "Bệnh hệ tuần hoàn", icd_X: "Bệnh hệ hô hấp",
    icd_XI: "Bệnh hệ tiêu hóa", icd_XII: "Bệnh da và mô dưới da", icd_XIII: "Bệnh cơ, xương, khớp và mô liên kết",
    icd_XIV: "Bệnh hệ sinh dục, tiết niệu", icd_XV: "Thai nghén, sinh đẻ và hậu sản", icd_XVI: "Bệnh lý thời kỳ chu sinh",
    icd_XVII: "Dị tật bẩm sinh và bất thường nhiễm sắc thể", icd_XVIII: "Triệu chứng và dấu hiệu bất thường",
    icd_XIX: "Vết thương, ngộ độc và nguyên nhân bên ngoài", icd_XX: "Nguyên nhân bên ngoài của bệnh tật và tử vong",
    icd_XXI: "Yếu tố ảnh hưởng sức khỏe và tiếp xúc dịch vụ y tế", icd_XXII: "Mã dành cho mục đích đặc biệt",
    outcome_cured: "Khỏi", outcome_improved: "Đỡ, giảm", outcome_unchanged: "Không thay đổi", outcome_worse: "Nặng hơn",
    outcome_died: "Tử vong", outcome_discharged_poor_prognosis: "Tiên lượng nặng xin về", outcome_undetermined: "Chưa xác định",
    outcome_died_outside: "Tử vong ngoài cơ sở",
    save_account: "Lưu tài khoản", account_saved: "Đã lưu tài khoản {name}", deactivate: "Khóa",
    deactivate_confirm: "Khóa tài khoản {name}? Tài khoản sẽ không đăng nhập được nữa.",
    upload: "Tải dữ liệu lên", mapping: "Tệp ánh xạ cột (TOML, cho CSV)", upload_queued: "Đã nhận tệp: lượt nhập đang chờ xử lý",
    job_queued: "Đang chờ", job_ingesting: "Đang nhập", job_linking: "Đang liên kết", job_done: "Xong", job_failed: "Lỗi",
    job_cancelled: "Đã hủy", deactivated: "Đã khóa", active_account: "Đang hoạt động", accept: "Chấp nhận", reject: "Từ chối",
    accept_reason: "Lý do chấp nhận (ít nhất 5 ký tự)", reject_reason: "Lý do từ chối, để báo lại người dân (ít nhất 5 ký tự)",
    role_citizen: "Người dân", role_clinician: "Nhân viên y tế", role_reviewer: "Người rà soát",
    role_epidemiologist: "Cán bộ dịch tễ", role_admin: "Quản trị viên",
    not_for_role: "Trang bạn vừa mở không dành cho vai trò của bạn: đây là trang của bạn.",
    register: "Đăng ký tài khoản", forgot_password: "Quên mật khẩu", back_to_signin: "Quay lại đăng nhập",
    register_intro: "Nhập số định danh, ngày sinh và số điện thoại đã đăng ký với cơ quan quản lý dân cư; mã xác minh sẽ được gửi tới số điện thoại đó. Hồ sơ của trẻ dưới 18 tuổi do cha mẹ xem.",
    reset_intro: "Nhập số định danh, ngày sinh và số điện thoại đã đăng ký; mã xác minh sẽ được gửi tới số điện thoại đó để đặt lại mật khẩu.",
    ask_code: "Gửi mã xác minh", code: "Mã xác minh (6 chữ số)", new_password: "Mật khẩu mới (ít nhất 10 ký tự)",
    code_sent: "Nếu thông tin khớp với sổ đăng ký dân cư, mã xác minh đã được gửi tới số điện thoại. Mã có hiệu lực 5 phút.",
    finish_register: "Tạo tài khoản", finish_reset: "Đặt lại mật khẩu", account_ready: "Xong. Hãy đăng nhập bằng tài khoản",
    disclosures: "Ai đã xem hồ sơ của tôi", no_disclosures: "Chưa có ai khác xem hồ sơ của bạn.",
    disclosure_at: "Thời điểm", disclosure_who: "Người xem", disclosure_place: "Cơ sở", disclosure_how: "Cách xem",
    disclosure_whose: "Hồ sơ của", disclosure_state: "Báo cáo", self: "Bản thân",
    route_profile: "Xem hồ sơ", route_search: "Tìm kiếm", route_match: "Đối chiếu danh tính", route_export: "Trích xuất hồ sơ",
    route_fhir: "Hệ thống kết nối (FHIR)", route_review: "Rà soát liên kết", route_work_list: "Danh sách việc của trạm y tế",
    route_change_feed: "Luồng thay đổi cho hệ thống kết nối", route_other: "Khác",
    flag: "Báo bất thường", flag_note: "Điều gì bất thường? (không bắt buộc)", flag_open: "Đã báo, đang xem xét",
    flag_justified: "Đã xem xét: hợp lệ", flag_breach: "Đã xem xét: vi phạm",
    access_flags: "Truy cập bị người dân báo bất thường", flagged_by: "Người báo", accessed_at: "Thời điểm truy cập",
    justified: "Hợp lệ", breach: "Vi phạm", finding_reason: "Kết luận (người dân sẽ đọc, ít nhất 5 ký tự)",
    route_consent: "Đồng ý tại nơi khám", route_emergency: "Truy cập khẩn cấp (phá kính)",
    consent: "Cho nhân viên y tế ngoài tỉnh xem hồ sơ", consent_intro: "Khi khám ở tỉnh khác, hãy tạo mã và đọc cho nhân viên y tế: mã dùng một lần trong 1 giờ, mở hồ sơ cho đúng người đó trong 24 giờ.",
    make_consent: "Tạo mã đồng ý", consent_code: "Mã đồng ý:", valid_until: "dùng trước",
    other_province: "Người bệnh ở tỉnh khác", consent_code_of_person: "Mã đồng ý của người bệnh",
    personal_id_for_sms: "Số định danh (khi mã gửi qua tin nhắn)", open_record: "Mở hồ sơ", ask_consent: "Gửi tin nhắn xin đồng ý",
    consent_asked: "Đã gửi: nếu số định danh có trong sổ đăng ký, người bệnh sẽ nhận được mã", emergency_reason: "Lý do cấp cứu (ít nhất 20 ký tự)",
    break_glass: "Truy cập khẩn cấp", glass_broken: "Đã mở bản tóm tắt cấp cứu; lượt truy cập được ghi lại và sẽ được xem xét",
    emergency_summary: "Tóm tắt cấp cứu", blood_type: "Nhóm máu", allergies_short: "Dị ứng", chronic: "Bệnh mạn tính",
    medication: "Thuốc đang dùng", not_recorded: "Không có trong HoSo",
    privacy: "Quyền riêng tư", privacy_intro: "Phần bị đóng sẽ không hiện với nhân viên y tế của cơ sở khác (cơ sở đã ghi vẫn thấy); trong cấp cứu, dị ứng và bệnh mạn tính (trừ nhóm bệnh đã đóng) vẫn được xem.",
    whole_record: "Toàn bộ hồ sơ", close: "đóng", reopen: "mở lại", this_visit: "Lượt khám này", close_a_visit: "Đóng từng lượt khám",
    group_mental_health: "Sức khỏe tâm thần", group_hiv: "HIV", group_reproductive_health: "Sức khỏe sinh sản",
    who_else_reads: "Người được xem hồ sơ", grant_consent: "nhân viên y tế, theo mã đồng ý", grant_relative: "người thân",
    relative_account: "Tài khoản của người thân", days: "Số ngày",
    delegate: "Cho phép xem", end_delegation: "Kết thúc", flagged_by_citizen: "Người dân báo bất thường",
    readings: "Chỉ số sức khỏe", reading: "Chỉ số", result: "Kết quả", reading_bp: "Huyết áp", per_minute: "lần/phút",
    reading_pulse: "Mạch", reading_temperature: "Nhiệt độ", reading_weight: "Cân nặng", reading_height: "Chiều cao",
    reading_bmi: "BMI", reading_waist: "Vòng bụng", reading_glucose: "Đường huyết",
    reading_systolic_bp: "Huyết áp tâm thu", reading_diastolic_bp: "Huyết áp tâm trương",
    source_citizen: "Tự khai báo", history_chronic: "Bệnh mạn tính", history_risk_factor: "Yếu tố nguy cơ",
    history_allergy: "Dị ứng", history_family_history: "Tiền sử gia đình", history_disability: "Khuyết tật",
    override_needed: "Mục này có xung đột: muốn ghép phải đánh dấu ghi đè và viết lý do (ít nhất 20 ký tự)",
  },
  en: {
    app: "HoSo – Health record", signin: "Sign in", username: "Username", password: "Password",
    signout: "Sign out", language: "Tiếng Việt", wrong_login: "Wrong username or password",
    queue: "Review queue", backlog: "Backlog", province: "Province", source: "Source", filter: "Filter",
    match: "Same person", no_match: "Not a match", skip: "Skip", merge: "Merge the persons",
    not_duplicate: "Not duplicates", field: "Field", left: "Record", right: "Person", weight: "Weight",
    probability: "Probability", empty_queue: "Nothing left to review", note: "Note",
    weights_chart: "What each field contributes (bits)", decided: "Decided", stale: "The item changed: reload",
    my_record: "Health record", administrative: "Administrative information", history: "History and risk factors",
    immunizations: "Immunizations", next_doses: "Doses to come", visits: "Visits", children: "Children",
    household: "Household", correction: "Ask for a correction", phone: "Phone", address: "Address",
    send: "Send", sent: "Sent", self_report: "Report my health", smoking: "I smoke",
    allergies: "Allergies (comma separated)", systolic: "Systolic pressure", diastolic: "Diastolic pressure",
    refused: "You may not see this record", search: "Search", name: "Name", birth_date: "Birth date",
    sex: "Sex", personal_id: "Personal id", vaccine: "Vaccine", dose: "Dose", date: "Date",
    facility: "Facility", diagnosis: "Diagnosis", dashboard: "Epidemiology dashboard", period: "Period",
    level: "Level", unit: "Unit", show: "Show", pyramid: "Age pyramid", incidence: "Cases by month",
    coverage: "Children under 1 fully immunized (%)", map: "Full immunization on the map", download: "Download the CSV report",
    admin: "Administration", users: "Accounts", audit: "Audit log", jobs: "Ingestion jobs",
    batches: "Batches", set_aside: "Set aside", restore: "Restore", retry: "Retry", cancel: "Cancel",
    reason: "Reason", actions: "Actions", linkable: "Ready to link", created: "Created",
    corrections: "Correction requests", quarantine: "Quarantined records", role: "Role", state: "State",
    due: "due", overdue: "overdue", upcoming: "upcoming", source_record: "Source",
    value: "Value", new_value: "New value", male: "Male", female: "Female", file: "File", method: "Method",
    endpoint: "Endpoint", status: "Status", current: "Current", person: "Person", counts: "Read / accepted / quarantined / linked",
    kind: "Kind", position: "Position", reason: "Reason",
    kind_record: "Record → person", kind_persons: "Two persons", conflicts: "Conflicts", with_conflicts: "With conflicts",
    without_conflicts: "Without conflicts", sort: "Sort", sort_uncertain: "Most uncertain", sort_age: "Waiting longest",
    backlog_by: "Backlog by province and source", empty_filter: "No item matches these filters", days: "days",
    belongs_to: "The record belongs now to", awaits_second: "Awaits a second reviewer", count: "Items",
    conflict_personal_id: "Different personal ids", conflict_bhxh: "Different insurance numbers", conflict_sex: "Different sexes",
    conflict_birth: "Birth years far apart", level: "Level", near: "one keystroke apart",
    field_family: "Family name", field_middle: "Middle name", field_given: "Given name", field_birth_date: "Birth date",
    field_sex: "Sex", field_personal_id: "Personal id", field_cmnd: "Old id card", field_bhxh: "Insurance number",
    field_other_id: "Other id", field_phone: "Phone", field_household_code: "Household", field_address_text: "Address",
    field_commune: "Commune",
    formerly: "formerly", golden_of: "Golden record of", records_of: "This person's records", conflicts_found: "Stop:",
    conflicts_explain: "The two sides carry what one person cannot. To match anyway, tick the override and write why (20 characters or more).",
    pair_scored: "The pair scored", override: "Override the conflicts (needs a reason)", context: "Context",
    history_and_cluster: "History, undo and the person's cluster", undo: "Undo", undone: "Undone",
    undo_reason: "Undone from the review desk", override_requested: "Override recorded: it waits for a second reviewer",
    decision_MATCH: "same person", decision_NO_MATCH: "not a match", decision_MERGE: "persons merged",
    decision_NOT_DUPLICATE: "not duplicates", cluster: "The person's records (weights on the edges)",
    split_explain: "Choose the records that belong to someone else, then split", split: "Split", split_done: "Split into",
    level_exact: "exact", level_similar: "similar spelling", level_missing: "missing on a side", level_different: "different",
    level_one_keystroke: "one keystroke apart", level_exact_consistent: "exact, consistent with sex and birth year",
    level_family_variant: "family name variant (Hoàng = Huỳnh, Vũ = Võ)", level_swapped: "middle and given swapped",
    level_one_letter: "one letter apart", level_day_month_swapped: "day and month transposed",
    level_year_partial: "same year, one side year or month only", level_same_month: "same month and year",
    level_same_year: "year only", level_within_year: "within a year", level_same_commune: "same commune",
    level_province_no_commune: "same province, one side without a commune",
    level_postcode_no_commune: "same postcode, one side without a commune", level_same_province: "same province",
    level_same_person_shared: "shared, same given name and birth year", prior: "Prior",
    link_history: "Link history", family: "Family", relation_child: "child", relation_parent: "parent",
    phone_hint: "A Vietnamese phone: 10 digits starting with 0 (as 0912345678)",
    source_population: "Population registry", source_commune831: "Commune health station", source_hospital130: "Hospital",
    source_immunization: "Immunization registry", source_fhir: "Another health system", source_csv: "A facility's file",
    scope_national: "Nation", scope_province: "Province", scope_district: "District (before 2025)",
    scope_commune: "Commune", district_code: "District code (before 2025)", dashboard_error: "The figures cannot be shown:",
    as_of: "Data as of", persons: "Persons", age_band: "Age band", month: "Month", cases: "Cases",
    percent_fic: "Fully immunized (%)", no_data: "No data, or under 5 children",
    coverage_lowest: "The {n} units with the lowest coverage of {all}.", coverage_withheld: "{n} units with under 5 children are not shown.",
    coverage_none: "No unit has the 5 children needed to be shown.",
    longitude: "Longitude", latitude: "Latitude", map_note: "Each point is a unit's centre, coloured by full immunization coverage; the map has no boundaries.",
    icd_I: "Infectious and parasitic diseases", icd_II: "Neoplasms", icd_III: "Blood and immune disorders",
    icd_IV: "Endocrine, nutritional and metabolic", icd_V: "Mental and behavioural disorders", icd_VI: "Nervous system",
    icd_VII: "Eye and adnexa", icd_VIII: "Ear and mastoid", icd_IX: "Circulatory system", icd_X: "Respiratory system",
    icd_XI: "Digestive system", icd_XII: "Skin and subcutaneous tissue", icd_XIII: "Musculoskeletal system",
    icd_XIV: "Genitourinary system", icd_XV: "Pregnancy and childbirth", icd_XVI: "Perinatal conditions",
    icd_XVII: "Congenital malformations", icd_XVIII: "Symptoms and abnormal findings", icd_XIX: "Injury and poisoning",
    icd_XX: "External causes", icd_XXI: "Factors influencing health status", icd_XXII: "Codes for special purposes",
    outcome_cured: "Cured", outcome_improved: "Improved", outcome_unchanged: "Unchanged", outcome_worse: "Worse",
    outcome_died: "Died", outcome_discharged_poor_prognosis: "Discharged, poor prognosis", outcome_undetermined: "Undetermined",
    outcome_died_outside: "Died outside the facility",
    save_account: "Save the account", account_saved: "Account {name} saved", deactivate: "Deactivate",
    deactivate_confirm: "Deactivate the account {name}? It will no longer sign in.",
    upload: "Upload data", mapping: "Column mapping (TOML, for CSV)", upload_queued: "File received: the job is queued",
    job_queued: "Queued", job_ingesting: "Ingesting", job_linking: "Linking", job_done: "Done", job_failed: "Failed",
    job_cancelled: "Cancelled", deactivated: "Deactivated", active_account: "Active", accept: "Accept", reject: "Refuse",
    accept_reason: "Why it is accepted (at least 5 characters)", reject_reason: "Why it is refused, to tell the citizen (at least 5 characters)",
    role_citizen: "Citizen", role_clinician: "Clinician", role_reviewer: "Reviewer",
    role_epidemiologist: "Epidemiologist", role_admin: "Administrator",
    not_for_role: "The page you opened is not for your role: this is your page.",
    register: "Create an account", forgot_password: "Forgot password", back_to_signin: "Back to sign-in",
    register_intro: "Give your personal id, birth date and the phone number the population registry holds; a code is sent to that phone. A child's record under 18 is read by their parents.",
    reset_intro: "Give your personal id, birth date and the phone number on file; a code is sent to that phone to set a new password.",
    ask_code: "Send the code", code: "Code (6 digits)", new_password: "New password (at least 10 characters)",
    code_sent: "If the details match the population registry, a code was sent to the phone. It is good for 5 minutes.",
    finish_register: "Create the account", finish_reset: "Set the password", account_ready: "Done. Sign in as",
    disclosures: "Who read my record", no_disclosures: "Nobody else has read your record yet.",
    disclosure_at: "When", disclosure_who: "Who", disclosure_place: "Facility", disclosure_how: "How",
    disclosure_whose: "Whose record", disclosure_state: "Flag", self: "Myself",
    route_profile: "Read the record", route_search: "Search", route_match: "Identity match", route_export: "Record export",
    route_fhir: "Connected system (FHIR)", route_review: "Link review", route_work_list: "Health station work list",
    route_change_feed: "Change feed to connected systems", route_other: "Other",
    flag: "Flag as unexpected", flag_note: "What was unexpected? (optional)", flag_open: "Flagged, under review",
    flag_justified: "Reviewed: justified", flag_breach: "Reviewed: a breach",
    access_flags: "Accesses flagged by citizens", flagged_by: "Flagged by", accessed_at: "Accessed at",
    justified: "Justified", breach: "Breach", finding_reason: "Finding (the citizen reads it; 5 characters or more)",
    route_consent: "Consent at the point of care", route_emergency: "Emergency access (break-the-glass)",
    consent: "Let a clinician of another province read my record", consent_intro: "When treated in another province, make a code and read it out to the clinician: it is good once within an hour and opens your record to that clinician for 24 hours.",
    make_consent: "Make a consent code", consent_code: "Consent code:", valid_until: "use before",
    other_province: "A patient of another province", consent_code_of_person: "The patient's consent code",
    personal_id_for_sms: "Personal id (for a code sent by SMS)", open_record: "Open the record", ask_consent: "Ask for consent by SMS",
    consent_asked: "Sent: if the personal id is in the registry, the patient receives a code", emergency_reason: "Emergency reason (20 characters or more)",
    break_glass: "Emergency access", glass_broken: "The emergency summary is open; this access is recorded and will be reviewed",
    emergency_summary: "Emergency summary", blood_type: "Blood type", allergies_short: "Allergies", chronic: "Chronic conditions",
    medication: "Current medication", not_recorded: "Not held by HoSo",
    privacy: "Privacy", privacy_intro: "What you close is not shown to health workers of other facilities (the facility that wrote it still sees it); in an emergency, allergies and chronic conditions (but not a closed group) are still read.",
    whole_record: "The whole record", close: "close", reopen: "open again", this_visit: "This visit", close_a_visit: "Close single visits",
    group_mental_health: "Mental health", group_hiv: "HIV", group_reproductive_health: "Reproductive health",
    who_else_reads: "Who else may read the record", grant_consent: "health worker, by consent code", grant_relative: "relative",
    relative_account: "The relative's account", days: "Days",
    delegate: "Let them read", end_delegation: "End", flagged_by_citizen: "Flagged by the citizen",
    readings: "Readings", reading: "Reading", result: "Result", reading_bp: "Blood pressure", per_minute: "/min",
    reading_pulse: "Pulse", reading_temperature: "Temperature", reading_weight: "Weight", reading_height: "Height",
    reading_bmi: "BMI", reading_waist: "Waist", reading_glucose: "Blood glucose",
    reading_systolic_bp: "Systolic pressure", reading_diastolic_bp: "Diastolic pressure",
    source_citizen: "Self-reported", history_chronic: "Chronic disease", history_risk_factor: "Risk factor",
    history_allergy: "Allergy", history_family_history: "Family history", history_disability: "Disability",
    override_needed: "This item has conflicts: to match, tick the override and write why (20 characters or more)",
  },
};

const HoSo = {
  lang: localStorage.getItem("hoso.lang") || "vi",
  t(key) { return (TEXT[this.lang] && TEXT[this.lang][key]) || TEXT.en[key] || key; },
  // A diagnosis as "code name": the Vietnamese name where the server has one (else the code's ICD-10
  // chapter in Vietnamese), WHO's English title in English.
  disease(code, english, vietnamese, chapter) {
    const name = this.lang === "vi" ? (vietnamese || (chapter ? `(${this.t("icd_" + chapter)})` : english)) : english;
    return `${code || ""} ${name || ""}`.trim();
  },
  token() { return sessionStorage.getItem("hoso.token"); },
  me() { return JSON.parse(sessionStorage.getItem("hoso.me") || "null"); },

  translate(root = document) {
    document.documentElement.lang = this.lang;
    root.querySelectorAll("[data-i18n]").forEach((el) => { el.textContent = this.t(el.dataset.i18n); });
    root.querySelectorAll("[data-i18n-placeholder]").forEach((el) => { el.placeholder = this.t(el.dataset.i18nPlaceholder); });
  },

  header(titleKey) {
    const bar = document.createElement("header");
    bar.innerHTML = `<h1 data-i18n="${titleKey}"></h1><span class="who"></span>
      <button type="button" id="lang" data-i18n="language"></button>
      <button type="button" id="signout" data-i18n="signout"></button>`;
    document.body.prepend(bar);
    const me = this.me();
    if (me) bar.querySelector(".who").textContent = `${me.username} · ${this.t("role_" + me.role)}`;
    if (new URLSearchParams(location.search).get("notice") === "not_for_role") {
      const notice = document.createElement("p");
      notice.id = "notice";
      notice.className = "notice";
      notice.setAttribute("role", "status");
      notice.textContent = this.t("not_for_role");
      bar.after(notice);
    }
    bar.querySelector("#lang").onclick = () => {
      localStorage.setItem("hoso.lang", this.lang === "vi" ? "en" : "vi");
      location.reload();
    };
    bar.querySelector("#signout").onclick = () => { sessionStorage.clear(); location.href = "/ui/"; };
    this.translate();
  },

  HOME: { reviewer: "review.html", citizen: "record.html", clinician: "record.html", epidemiologist: "dashboard.html",
    admin: "admin.html" },

  require(...roles) {
    const me = this.me();
    if (!this.token() || !me) { location.href = "/ui/"; throw new Error("not signed in"); }
    if (roles.length && !roles.includes(me.role)) {  // another role's page: back to one's own, saying why
      location.href = `/ui/${this.HOME[me.role]}?notice=not_for_role`;
      throw new Error("wrong role");
    }
    return me;
  },

  async api(path, options = {}) {
    // The server says its errors in the page's language.
    const headers = Object.assign({ Authorization: `Bearer ${this.token()}`, "Accept-Language": this.lang }, options.headers || {});
    if (options.json !== undefined) {
      headers["Content-Type"] = "application/json";
      options.body = JSON.stringify(options.json);
    }
    const answer = await fetch(path, Object.assign({}, options, { headers }));
    if (answer.status === 401) { sessionStorage.clear(); location.href = "/ui/"; throw new Error("signed out"); }
    const type = answer.headers.get("content-type") || "";
    const body = type.includes("json") ? await answer.json() : await answer.text();
    if (!answer.ok) { const error = new Error(body.detail || answer.statusText); error.status = answer.status; throw error; }
    return body;
  },

  esc(value) {
    return String(value ?? "–").replace(/[&<>"']/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" })[c]);
  },

  table(rows, columns) {
    if (!rows || !rows.length) return `<p class="muted">–</p>`;
    const head = columns.map(([key, label]) => `<th>${this.esc(this.t(label || key))}</th>`).join("");
    const body = rows.map((row) => `<tr>${columns.map(([key]) => `<td>${this.esc(row[key])}</td>`).join("")}</tr>`).join("");
    return `<table><thead><tr>${head}</tr></thead><tbody>${body}</tbody></table>`;
  },

  svg(width, height, inner) {
    return `<svg viewBox="0 0 ${width} ${height}" width="100%" style="max-width:${width}px" role="img">${inner}</svg>`;
  },

  // Bars from the left (negative weights to the left of zero), cumulative like a waterfall.
  waterfall(items) {
    const width = 560, rowH = 22, height = rowH * (items.length + 1) + 10;
    let total = 0, lo = 0, hi = 0;
    const steps = items.map((item) => { const start = total; total += item.value; lo = Math.min(lo, start, total); hi = Math.max(hi, start, total); return { ...item, start, end: total }; });
    const span = (hi - lo) || 1, left = 150, plot = width - left - 60;
    const x = (v) => left + ((v - lo) / span) * plot;
    let out = `<line x1="${x(0)}" y1="0" x2="${x(0)}" y2="${height}" stroke="#999"/>`;
    steps.forEach((s, i) => {
      const y = 5 + i * rowH, a = x(Math.min(s.start, s.end)), b = x(Math.max(s.start, s.end));
      out += `<text x="0" y="${y + 14}">${this.esc(s.label)}</text>
        <rect x="${a}" y="${y + 3}" width="${Math.max(1, b - a)}" height="${rowH - 8}" fill="${s.value >= 0 ? "#0b6e4f" : "#b3261e"}"/>
        <text x="${b + 4}" y="${y + 14}">${s.value.toFixed(1)}</text>`;
    });
    out += `<text x="0" y="${height - 4}" font-weight="600">Σ ${total.toFixed(1)}</text>`;
    return this.svg(width, height, out);
  },

  pyramid(rows) {
    const width = 520, rowH = 16, height = rowH * rows.length + 20, mid = width / 2;
    const max = Math.max(1, ...rows.map((r) => Math.max(r.male || 0, r.female || 0)));
    let out = "";
    rows.slice().reverse().forEach((r, i) => {
      const y = i * rowH, m = ((r.male || 0) / max) * (mid - 40), f = ((r.female || 0) / max) * (mid - 40);
      out += `<rect x="${mid - 20 - m}" y="${y}" width="${m}" height="${rowH - 3}" fill="#4a7ab5"/>
        <rect x="${mid + 20}" y="${y}" width="${f}" height="${rowH - 3}" fill="#d9776b"/>
        <text x="${mid}" y="${y + 11}" text-anchor="middle">${this.esc(r.age_band)}</text>`;
    });
    return this.svg(width, height, out);
  },

  lines(series) {
    const width = 620, height = 240, pad = 30;
    const xs = [...new Set(series.flatMap((s) => s.points.map((p) => p[0])))].sort();
    const max = Math.max(1, ...series.flatMap((s) => s.points.map((p) => p[1])));
    const x = (v) => pad + (xs.indexOf(v) / Math.max(1, xs.length - 1)) * (width - 2 * pad);
    const y = (v) => height - pad - (v / max) * (height - 2 * pad);
    const colours = ["#0b6e4f", "#4a7ab5", "#d9776b", "#b58a00", "#7a4ab5"];
    let out = `<line x1="${pad}" y1="${height - pad}" x2="${width - pad}" y2="${height - pad}" stroke="#999"/>`;
    series.forEach((s, i) => {
      const path = s.points.map((p, j) => `${j ? "L" : "M"}${x(p[0])},${y(p[1])}`).join(" ");
      out += `<path d="${path}" fill="none" stroke="${colours[i % colours.length]}" stroke-width="2"/>
        <text x="${width - pad + 2}" y="${14 + i * 14}" fill="${colours[i % colours.length]}">${this.esc(s.name)}</text>`;
    });
    xs.forEach((v, j) => { if (j % Math.ceil(xs.length / 6) === 0) out += `<text x="${x(v)}" y="${height - 8}" text-anchor="middle">${this.esc(String(v).slice(0, 7))}</text>`; });
    return this.svg(width + 120, height, out);
  },

  bars(rows, key, valueKey, max = 100) {
    const width = 560, rowH = 18, height = rowH * rows.length + 6;
    let out = "";
    rows.forEach((r, i) => {
      const v = r[valueKey];
      out += `<text x="0" y="${i * rowH + 13}">${this.esc(r[key])}</text>`;
      if (v !== null && v !== undefined) out += `<rect x="120" y="${i * rowH + 3}" width="${(v / max) * (width - 180)}" height="${rowH - 6}" fill="#0b6e4f"/><text x="${124 + (v / max) * (width - 180)}" y="${i * rowH + 13}">${v}</text>`;
      else out += `<text x="124" y="${i * rowH + 13}" class="muted">&lt;5</text>`;
    });
    return this.svg(width, height, out);
  },

  map(units) {
    const width = 320, height = 520, pts = units.filter((u) => u.lat && u.lon);
    if (!pts.length) return "";
    const lat = pts.map((u) => u.lat), lon = pts.map((u) => u.lon);
    const [a, b, c, d] = [Math.min(...lat), Math.max(...lat), Math.min(...lon), Math.max(...lon)];
    let out = "";
    pts.forEach((u) => {
      const x = 10 + ((u.lon - c) / ((d - c) || 1)) * (width - 20), y = 10 + ((b - u.lat) / ((b - a) || 1)) * (height - 20);
      out += `<circle cx="${x}" cy="${y}" r="${u.value ? 3 + Math.min(9, u.value / 10) : 2}" fill="${u.value ? "#0b6e4f" : "#9aa5b1"}" opacity=".75"><title>${this.esc(u.name)} ${this.esc(u.value ?? "")}</title></circle>`;
    });
    return this.svg(width, height, out);
  },
};
window.HoSo = HoSo;
