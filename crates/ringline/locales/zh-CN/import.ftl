# 登记信息导入：导入页面与文件中发现的问题。
nav-import = 导入
import-intro = 从 XLSX、XLS、ODS 或 CSV 文件导入单位、党组织和党员。先检查文件（试导入）：列出每个问题所在的行和列，整个文件无误之前不写入任何数据。
import-templates = 模板
import-order = 导入顺序：先单位，再党组织（需填写所在单位），最后党员（需填写所在党组织）。选派干部和结对帮扶也要填写单位；驻村日志须填写正在驻村的干部。发展链条须填写党组织和单位，党建品牌须填写所属单位或村；主导产品、村集体经济收入和收入目标按村填写。
import-upload = 检查文件
import-kind = 数据类别
import-file = 文件
import-on-existing = 与已有记录匹配但内容不同的行
import-on-existing-skip = 保留已有记录（跳过）
import-on-existing-update = 用文件内容更新已有记录
import-check = 上传并检查
import-formats = 支持 .xlsx、.xls、.ods、.csv（UTF-8、GBK 或 GB18030 编码）和 .csv.gz，最大 64 MB、50 万行。表头上方可以有标题行；可识别合并的表头单元格。
import-no-file = 请选择要上传的文件。
import-choose-kind = 请选择文件中的数据类别。
import-unknown-type = { $file }：无法识别的文件类型；请使用 .xlsx、.xls、.ods、.csv 或 .csv.gz。
import-too-large = 文件超过 { $mb } MB，请拆分后再上传。
import-stalled = 文件上传中断，未能完整接收，未保存任何内容。请重新上传。
import-stage-reading = 正在读取文件……
import-stage-checking = 正在检查数据行……
import-stage-writing = 正在写入……
import-running-hint = 本页面会自动刷新，直到处理完成。
import-failed = 因内部错误导入中止，未写入任何数据。请重试，或联系管理员。
import-changed = 本次导入等待写入期间，另一项导入修改了这些记录，本次未写入任何数据。文件已重新检查：请先核对下面的新结果，再写入。
import-applied = 导入完成：数据已写入。
import-dry-run-ok = 文件检查通过，尚未写入。请核对数量后确认导入。
import-has-errors = 发现 { $count } 个问题，未写入任何数据。请在文件中改正后重新上传。
import-more-errors = ……另有 { $count } 个问题：下载错误行文件可查看全部。
import-rows = 数据行数
import-header-row = 表头所在行
import-new = 新增
import-updated = 更新
import-unchanged = 未变化
import-skipped = 跳过
import-errors = 错误
import-warnings = 提示
import-apply = 确认导入：写入这些数据
import-errors-xlsx = 下载错误行（XLSX，错误单元格已标红）
import-row = 行
import-column = 列
import-value = 值
import-reason = 原因
import-not-ready = 该文件不能导入：有错误、仍在检查，或已经导入过。
issue-value-missing = “{ $column }”为必填项，请填写。
issue-value-negative = 须为 0 或正整数。
issue-duplicate-in-file = 与第 { $first } 行重复；同一文件中每条记录只能出现一次。
issue-header-not-found = 表格顶部未找到表头行；表头须写明各列名称，例如：{ $expected }。
issue-header-duplicate-column = “{ $column }”列出现了两次，请只保留一列。
issue-header-missing-column = 缺少必填列“{ $column }”，请补上（模板中列出了全部列）。
issue-file-empty = 文件是空的。
issue-file-no-rows = 文件只有表头，没有数据行。
issue-file-too-many-rows = 文件行数过多；请拆分为每个不超过 50 万行的文件。
issue-file-too-large = 文件解压后过大，请拆分。
issue-file-encoding = 无法识别文本编码（支持 UTF-8、GBK/GB18030），请另存为 UTF-8 CSV 或 XLSX。详情：{ $detail }
issue-file-nul-byte = 文本中含有空字符（NUL，编码 0），不是正常文字，通常是导出文件损坏所致；请删除该字符，或用 Excel 或 WPS 重新另存为 UTF-8 CSV 或 XLSX。详情：{ $detail }
issue-file-malformed-csv = CSV 文件格式有误（引号未闭合或行被截断），请用 Excel 或 WPS 重新保存。详情：{ $detail }
issue-file-not-spreadsheet = 无法读取该电子表格，请用 Excel 或 WPS 另存为 XLSX 后重试。详情：{ $detail }
issue-file-unknown-type = 无法识别的文件类型；请使用 .xlsx、.xls、.ods、.csv 或 .csv.gz。
issue-file-unreadable = 无法读取该文件。详情：{ $detail }
issue-division-unknown = { $value } 不是本系统在用的行政区划代码；请核对12位代码。
issue-division-retired = { $code } 已于 { $date } 撤销：原有记录仍可查阅，但不能再登记新的记录；请改用取代它的代码。
issue-org-division-retired = 该党组织所在的 { $code } 已于 { $date } 撤销，不再接收新党员；请将该党员登记到取代它的党组织。
issue-division-wrong-level = 这是{ $level ->
    [province] 省级
    [city] 地级
    [county] 县级
    [town] 乡镇级
    [village] 村(社区)级
   *[other] { $level }
}代码；此处需要{ $wanted ->
    [village] 村(社区)
    [town] 乡镇
   *[other] 乡镇或村(社区)
}代码。
issue-outside-scope = 超出您的管理范围；只能导入本辖区的数据。
issue-point-outside-china = 坐标（WGS-84 经度、纬度）不在中国境内；请核对顺序和数值。
issue-point-unpaired = 经度和纬度须同时填写或同时留空。
issue-credit-code-unverified = 统一社会信用代码未通过 GB 32100 校验；按早期试点代码接收，请对照营业执照核实。
issue-org-code-malformed = 党组织代码最多32位，只能由数字、字母或“-”组成。
issue-org-host-missing = 请填写所在单位；村(社区)党组织请填写村(社区)代码。
issue-org-host-twice = 所在单位和村(社区)代码只能填写一项。
issue-org-joint-alone = 联合组建的党组织通常还覆盖其他单位，请在“联建单位”列中列出。
issue-org-parent-self = 党组织不能以自己为上级。
issue-org-parent-branch = 党支部不设下级党组织；上级须为党委或党总支。
issue-org-parent-cycle = 上级关系形成了循环（某个党组织成了自己的上级）。
issue-org-parent-not-found = { $count ->
    [0] 没有代码或名称为“{ $value }”的党组织；请先导入上级党组织，或放在同一文件中。
   *[other] 有 { $count } 个党组织名为“{ $value }”；请改填上级党组织代码。
}
issue-org-not-found = { $count ->
    [0] 没有代码或名称为“{ $value }”的党组织；请使用党组织列表中的代码。
   *[other] 有 { $count } 个党组织名为“{ $value }”；请改填党组织代码。
}
issue-unit-not-found = { $count ->
    [0] 没有信用代码或名称为“{ $value }”的登记单位；请先导入该单位或核对名称。
   *[other] 有 { $count } 个登记单位名为“{ $value }”；请改填统一社会信用代码。
}
issue-id-number-converted = 15位一代身份证号码，已升位为18位保存。
issue-sex-mismatch = 与公民身份号码不一致（号码显示为“{ $expected }”，第17位奇数为男、偶数为女）；请改正其一。
issue-birth-date-mismatch = 与公民身份号码中的出生日期 { $expected } 不一致；请改正其一。
issue-join-date-too-early = 入党日期早于建党时间（1921年）；请核对日期。
issue-join-date-future = 入党日期晚于今天。
issue-join-date-under-18 = 入党日期早于本人年满18周岁之日（党章第一条规定年满十八岁）。
issue-cell-scientific-notation = Excel 把这个长数字当作数值保存，只保留了15位；请把该列设为“文本”格式后重新录入。
issue-cell-not-a-date = 不是日期；请写成 2019-07-01、2019/7/1、2019.07.01 或 2019年7月1日，或使用 Excel 日期单元格。
issue-cell-ambiguous-date = 无法判断日和月的顺序；请把年份写在前面，如 2019-07-01。
issue-cell-not-a-number = 不是数字。
issue-cell-not-a-whole-number = 须为整数。
issue-cell-bad-phone = 不是电话号码；请填写以1开头的11位手机号码，或带区号的固定电话（如 0971-2722345）。
issue-cell-not-a-choice = 不是可选的值；请从以下选择：{ $allowed }。
issue-id-number-empty = 公民身份号码为空；请填写18位公民身份号码。
issue-id-number-wrong-length = 公民身份号码应为18位（一代证为15位）。
issue-id-number-not-digits = 公民身份号码只能由数字组成，最后一位可以是 X。
issue-id-number-bad-date = 公民身份号码中的出生日期（第7–14位）不是1900年以后的有效日期；请核对。
issue-id-number-future-date = 公民身份号码中的出生日期晚于今天；请核对出生日期位。
issue-id-number-check-failed = 公民身份号码的校验位与前17位不符，可能有输错的数字。
issue-credit-code-empty = 统一社会信用代码为空。
issue-credit-code-wrong-length = 统一社会信用代码应为18位。
issue-credit-code-bad-character = 统一社会信用代码由数字和除 I、O、S、V、Z 以外的大写字母组成。
issue-credit-code-check-failed = 统一社会信用代码的校验位与前17位不符；请查找输错的字符。
issue-name-empty = 名称为空。
issue-name-too-long = 名称过长。
issue-name-invisible-character = 名称中含有不可见字符或控制字符；请重新录入。
issue-code-empty = 区划代码为空。
issue-code-wrong-length = 区划代码应为12位数字。
issue-code-not-digits = 区划代码只能由数字组成。
issue-code-zero-province = 区划代码不能以00开头。
issue-code-gap = 区划代码中间有空段（非零段出现在零段之后）；请核对。
issue-code-town-part = 区划代码的乡级部分（第7–9位）无效；请核对。
issue-code-village-part = 区划代码的村级部分（第10–12位）无效；请核对。
issue-code-level-mismatch = 区划代码与所填层级不符；请核对。
issue-source-not-found = { $count ->
    [0] 没有名为“{ $value }”的登记单位或乡镇；请填写单位的统一社会信用代码或全称，或乡镇的12位区划代码。
   *[other] 有 { $count } 个乡镇名为“{ $value }”；请改填乡镇的12位区划代码。
}
issue-skill-unknown = “{ $value }”不在专长清单中；请从以下选择：{ $allowed }。
issue-priority-out-of-range = 优先级为1、2或3（3最紧迫）。
issue-cadre-not-found = 名册中没有该身份证号码的干部；请先导入选派干部。
issue-residency-not-found = 该干部在此日期没有驻村任期。
issue-dispatch-log-empty = 请填写工作内容。
issue-dispatch-log-too-long = 一条驻村日志最多2000字。
issue-dispatch-log-invisible = 内容中有不可见字符或控制字符；请重新输入。
import-stage-queued = 正在等待前一个导入完成……
import-too-many-jobs = 您已有 { $count } 个导入正在检查或写入，请等其中一个完成后再上传。
issue-member-under-18 = 按公民身份号码中的出生日期，该党员未满18周岁；党员须年满十八岁（党章第一条）——请核对号码。
issue-text-too-long = 超过500个字符，请缩短。
issue-org-branch-has-children = 该党组织下设 { $count } 个党组织；党支部不能设下级党组织——请先调整下级。
issue-cell-excel-error = 单元格中是 Excel 错误值 { $value }，不是数据；请修正公式或直接填写数值。
issue-amount-negative = 金额 { $value } 为负数；金额不能小于0。
issue-amount-not-numeric = “{ $value }”不是金额；请以元为单位填写数字，可带小数点，如 12345.67、12,345.67 或 1.2万。
issue-amount-bad-grouping = { $value } 的千分位逗号位置不对；请写成 1,234,567.89 或 1234567.89。
issue-amount-too-precise = { $value } 精确到了分以下；元最多保留2位小数（以万为单位时最多6位）。
issue-amount-too-large = { $value } 超过1万亿元；请核对数字和单位。
issue-amount-empty = 金额为空；请以元为单位填写，如 12,345.67 或 1.2万。
issue-year-outside-program = 年度 { $value } 不在该村所在县示范带的建设期内（可填 { $first }–{ $last } 年：建设期及其前5年基期）；请核对年度。
issue-year-out-of-range = 年度 { $value } 不在 { $first } 年至 { $last } 年之间；请核对年度。
issue-year-future = 年度 { $value } 尚未开始；收入和产值只能填报当年及以前的年度。
issue-income-source-unknown = “{ $value }”不是收入来源；请从以下选择：{ $allowed }。
issue-scale-negative = 规模为负数；规模不能小于0。
issue-scale-unpaired = 规模和规模单位须同时填写或同时留空。
issue-chain-product-unknown = “{ $value }”不是该村的主导产品；链条仍会保存——请核对产品名称。
issue-brand-owner-not-found = 没有信用代码或名称为“{ $value }”的登记单位，它也不是村(社区)代码；请填写单位的统一社会信用代码或全称，或村(社区)的12位区划代码。
issue-brand-zone-other-county = 示范带“{ $value }”属于其他县的示范带建设规划；品牌只能归入所属单位或村所在县的示范带。
issue-zone-not-found = { $count ->
    [0] 所属单位或村所在县没有名为“{ $value }”的示范带；请按示范带页面上的名称填写。
   *[other] 所属单位或村所在县有 { $count } 个示范带名为“{ $value }”；请填写示范带全称。
}
issue-division-name-unknown = 没有名为 { $value } 的地方；请从列表中选择，或填写12位区划代码。
issue-division-name-ambiguous = 有 { $count } 个地方叫 { $value }；请在前面写上乡镇（"乡镇 村"），或填写12位区划代码。

# 暂存行：导入行的身份证号属于导入者辖区以外已登记的人员。
held-title = 待县级处理的暂存行
held-intro = 导入的党员或选派干部行中，如身份证号属于导入者辖区以外已登记的人员，导入结果与新增人员相同，不改动该记录；该行暂存于此，由辖区覆盖双方的用户处理：将记录转接到该行的党组织或派出单位，或舍弃该行。两种处理均记入审计日志。
held-open = 查看暂存行
held-none = 本辖区没有暂存行。
held-kind-members = 党员
held-kind-cadres = 选派干部
held-col-id-number = 身份证号
held-col-record = 现登记为
held-col-row = 该行将其转至
held-col-source = 文件、行号、导入人
held-record-gone = （记录已不存在）
held-transfer = 转接
held-discard = 舍弃
import-sheet = 工作表
import-sheet-hint = 第一个可见工作表
import-other-sheet = 读取本工作簿的另一个工作表：
import-read-sheet = 检查该工作表
import-runs-title = 已导入记录
import-runs-intro = 导入之后，只要其记录没有被后来的修改动过，就可以撤销：删除这次导入新建的记录，恢复被覆盖的值。
import-runs-open = 查看已导入记录
import-runs-none = 您的范围内还没有执行过导入。
import-run-number = 编号
import-run-by = 操作人
import-run-applied = 导入时间
import-run-undone = 撤销时间
import-run-title = 导入
import-run-records = 写入的记录
import-undo = 撤销这次导入
import-undo-link = 撤销这次导入…
import-undo-warning = 撤销将删除这次导入新建的记录，并恢复被覆盖的值。只要其中有记录之后被修改过，就不能撤销。
import-undo-sure = 我已核对，撤销这次导入。
import-undone = 已撤销这次导入。
import-to-confirm = 需要确认的更新
import-to-confirm-hint = 这些行会改掉记录的姓名（同一身份证号是不是另一个人？）或清空已存的值。请逐条核对；如要写入，请在导入前勾选确认。
import-confirm-updates = 我已核对上面需要确认的更新，一并写入。
import-confirm-needed = 有的更新需要您确认：请在“需要确认的更新”下方勾选确认，或修改文件。
import-changes = 会改动已存记录的行
import-key = 关键字
import-change-action = 处理
import-change-fields = 原值 → 新值
issue-header-unknown-column = “{ $column }”列不是这类记录的列，不会导入；最接近的已知列名是“{ $nearest }”——如果这一列就是它，请改列名。
issue-error-workbook = 这是一个错误工作簿：只包含有错误的行。请在原文件中改正，或者先导入这些行，再导入其余行。
issue-file-no-such-sheet = { $detail }

issue-twinning-other-county = 该单位不在这个村所在的县；请与本县的单位结对。
issue-dispatch-batch-county = 选派批次由覆盖全县的用户在本县内设置；请选择您所在的县。
issue-dispatch-size-range = 批次人数不对：下限不能大于上限，人数在0到10000之间。
issue-dispatch-per-village = 每村人数填1到100。
issue-dispatch-young-max-age = 年龄上限在18到70岁之间；不限年龄请留空。
issue-dispatch-term = 任期在1到120个月之间。
issue-dispatch-weights = 计分在-1000到1000分之间。
issue-dispatch-outside-term = { $value } 不在这段驻村任期内（{ $start } 至 { $end }）。
issue-key-taken-dispatch = 已有名为“{ $value }”的选派批次；请换一个名称。
issue-key-taken-work-logs = 这名干部 { $value } 已有一条驻村日志；一天记一条，请打开那一条修改。
issue-dispatch-leave-overlap = { $start } 至 { $end } 的请假（{ $status ->
    [approved] 已批准
   *[pending] 待审批
}）已包含其中的日子；请修改那条请假或选择其他日期。
issue-dispatch-attendance-missing = { $value } 还没有填报天数；请先填报。
issue-dispatch-attendance-confirmed = { $value } 的天数已由 { $who } 确认。
issue-dispatch-confirm-unticked = 请勾选“确认后不能撤销”，再确认选派。
