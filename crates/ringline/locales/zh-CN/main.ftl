# ringline — 简体中文。每个键都必须同时出现在 en/main.ftl 中。
app-tagline = 党建引领乡村振兴示范带
nav-program = 示范创建方案
nav-divisions = 行政区划
nav-logout = 退出登录
footer-data = 区划代码：国家统计局（2023年）。大通县坐标与县界：Vonng/adcode（CC BY 4.0）。地图不依赖在线瓦片。
back-home = 返回首页

login-title = 登录
login-username = 用户名
login-password = 密码
login-submit = 登录
login-hint = 首次启动时，服务器会打印一次 admin 账号的密码。

error-not-found = 未找到：该记录不存在，或不在您的权限范围内。
error-unauthorized = 请先登录。
error-bad-credentials = 用户名或密码错误。
error-csrf = 表单已过期或并非来自本站。请刷新页面后重试。
error-internal = 服务器出现错误，已记录日志。请重试或联系管理员。

role-county-admin = 县级管理员
role-town-admin = 乡镇管理员
role-village-reporter = 村级填报员
role-unit-admin = 单位管理员
role-dispatched-cadre = 选派干部
role-viewer = 查看/审计

stat-zones = 个示范区（带）
stat-villages-in-zones = 个村（社区）在示范区（带）内
stat-villages-approximate = 个村以乡镇驻地定位（近似）
stat-towns = 个乡镇
stat-villages = 个村（社区）
members-count = { $count } 个成员

map-title = 全县示范区（带）分布图
legend-no-zone = 不在示范区（对照组）
legend-approximate = 近似位置（乡镇驻地）
legend-seat = 乡镇驻地
geometry-assumption = 标注“假定”的示范区几何为默认设置，需由县里确认：以乡镇驻地为中心的环形区域，或沿一条川道各乡镇驻地的廊道。
tag-assumption = 假定

zones-title = 示范区（带）
members-title = 所辖村（社区）
children-title = 下级区划
history-title = 变更记录
overlap-title = 同时属于多个示范区（带）的村
overlap-explain = 同一方案的各示范区（带）不应重叠。请调整几何范围，或使用纳入/排除名单。

col-zone = 示范区（带）
col-kind = 类型
col-theme = 主题
col-area = 片区
col-goals = 目标
col-geometry = 范围
col-members = 成员数
col-code = 代码
col-name = 名称
col-town = 乡镇
col-reason = 纳入原因
col-distance = 距离（公里）
col-level = 层级
col-urban-rural = 城乡分类
col-point = 坐标
col-status = 状态
col-when = 时间
col-event = 变更
col-source = 来源

kind-ring = 环
kind-line = 线
theme-commerce-economy = 商贸经济
theme-new-rural-construction = 新农村建设
theme-characteristic-industry = 特色产业
theme-collective-economy = 村集体经济

geometry-ring = 以{ $centre }为中心，半径 { $inner }–{ $outer } 公里
geometry-polygon = 由 { $count } 个点构成的多边形
geometry-line = 沿 { $path }，两侧各 { $width } 公里

reason-geometry = 位于范围内
reason-geometry-approximate = 位于范围内（近似位置：乡镇驻地）
reason-include-list = 列入纳入名单

approximate-point = 近似
approximate-explain = 该村没有自己的坐标，以所属乡镇驻地定位。
no-point = 无坐标
no-zone = 该村不属于本方案的任何示范区（带）。

level-province = 省
level-city = 市
level-county = 县
level-town = 乡镇
level-village = 村（社区）
division-kind-sub-district = 街道
division-kind-town = 镇
division-kind-township = 乡
division-kind-town-like = 类似乡级单位
division-kind-residents-committee = 居委会（社区）
division-kind-villagers-committee = 村委会
division-kind-residents-like = 类似居委会
division-kind-villagers-like = 类似村委会
status-active = 使用中
status-retired = 已撤销
event-created = 新增
event-renamed = 更名
event-updated = 更新
event-retired = 撤销
event-reinstated = 恢复

overrides-title = 纳入与排除名单
col-list = 名单
col-note = 说明
override-include = 纳入
override-exclude = 排除
zone-edit-hint = 修改本示范区（带）：使用命令 ringline zones set-geometry、ringline zones include、ringline zones exclude（成员随即重新计算）。
