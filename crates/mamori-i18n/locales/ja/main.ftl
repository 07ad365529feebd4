# mamori のメッセージ（日本語）。用語は厚生労働省のチェックリスト・ガイドラインに合わせる。

## コマンドの説明（--help）
cli-mamori = mamori（守り）: 医療機関のサイバーセキュリティ対策を台帳・検査・監査ログ・チェックリストで支えるツールです
cli-init = データディレクトリとデータベースを作成し、初回セットアップ用トークンを表示します
cli-serve = Web 画面と API を起動します（初回は自動で初期化します）
cli-migrate = データベースを現在のバージョンに更新します
cli-institution = 医療機関（テナント）を管理します
cli-institution-add = 医療機関を登録します
cli-institution-list = 登録されている医療機関を表示します
cli-jobs = ジョブ（取込み・スキャン・検証などの長い処理）を管理します
cli-jobs-list = ジョブの一覧を表示します
cli-jobs-show = ジョブの詳細を表示します
cli-jobs-cancel = 実行中または待機中のジョブを中止します
cli-audit = 監査ログを扱います
cli-audit-verify = 監査ログのハッシュチェーンを検証し、改ざん・削除・並べ替えを検出します
cli-audit-log = 監査ログの最新の記録を表示します
cli-token = API トークンを管理します
cli-token-create = API トークンを発行します（トークンは一度だけ表示されます）
cli-token-list = API トークンの一覧を表示します
cli-token-revoke = API トークンを失効させます
cli-arg-data-dir = データディレクトリ（SQLite データベース、ロック、証跡ファイル）
cli-arg-db = SQLite の代わりに PostgreSQL を使う場合の接続先（postgres://ユーザ:パスワード@ホスト:ポート/DB名）
cli-arg-lang = 表示言語（ja または en）
cli-arg-verbose = 詳細なログを標準エラー出力に表示します
cli-arg-listen = 待ち受けるアドレスとポート（既定はこの機器の中からのみ接続できる 127.0.0.1）
cli-arg-tls-cert = TLS 証明書（PEM 形式。サーバ証明書を先頭にした証明書チェーン）
cli-arg-tls-key = TLS 秘密鍵（PEM 形式）
cli-arg-tls = ループバックでも自己署名証明書の HTTPS で公開します
cli-arg-insecure-http = ループバック以外のアドレスで TLS なしの HTTP を許可します（推奨しません）
cli-arg-name = 名称
cli-arg-kind = 種別（clinic: 診療所、hospital: 病院、pharmacy: 薬局、other: その他）
cli-arg-code = 医療機関コード（数字 7〜10 桁）
cli-arg-json = JSON で出力します
cli-arg-institution = 対象の医療機関 ID
cli-arg-status = 状態で絞り込みます（queued, running, succeeded, failed, cancelled, interrupted）
cli-arg-limit = 表示する最大件数
cli-arg-id = 対象の ID
cli-arg-follow = 終了するまで進捗を表示します

## 初期化
setup-token-heading = 初回セットアップ用トークン（この画面でのみ表示されます。第三者に知られないよう管理してください）:
setup-token-hint = mamori serve を起動し、表示された URL をブラウザで開いて、このトークンで管理者を登録してください。管理者の登録が済むまで、起動のたびに新しいトークンが発行されます。
init-created = データを初期化しました（{ $backend }: { $location }）。
init-existing = 既存のデータを確認しました（{ $backend }: { $location }）。
migrate-up-to-date = データベースは最新です（スキーマ { $version }）。
migrate-done = データベースを更新しました（スキーマ { $from } → { $to }）。

## 医療機関
institution-created = 医療機関「{ $name }」を登録しました（ID: { $id }）。
institution-none = 登録されている医療機関はありません。mamori institution add で登録してください。
institution-kind-clinic = 診療所
institution-kind-hospital = 病院
institution-kind-pharmacy = 薬局
institution-kind-other = その他
demo-mark = 【デモ】

## 表の見出し
col-id = ID
col-name = 名称
col-kind = 種別
col-code = 医療機関コード
col-status = 状態
col-progress = 進捗
col-created = 作成日時
col-message = メッセージ
col-error = エラー
col-finished = 終了日時
col-created-by = 実行者
col-seq = 番号
col-at = 日時
col-actor = 操作者
col-action = 操作
col-object = 対象
col-last-used = 最終使用

## ジョブ
jobs-none = ジョブはありません。
jobs-cancelled = ジョブ { $id } を中止しました。
jobs-cancel-requested = ジョブ { $id } に中止を要求しました。処理中の作業が区切りまで進むと停止します。
job-status-queued = 待機中
job-status-running = 実行中
job-status-succeeded = 完了
job-status-failed = 失敗
job-status-cancelled = 中止
job-status-interrupted = 中断（プロセス終了）

## 監査ログ
audit-chain-system = システム全体
audit-verifying = 監査ログを検証しています
audit-chain-ok = ✓ { $chain }: { $count } 件の記録に改ざんはありません
audit-chain-broken = ✗ { $chain }: { $problem }
audit-verified = { $chains } 系列の監査ログをすべて検証しました。改ざんは検出されませんでした。
audit-break-edited = { $seq } 番目の記録が書き換えられています
audit-break-gap = { $after } 番目の次が { $found } 番目になっています（記録の削除または並べ替え）
audit-break-unlinked = { $seq } 番目の記録が直前の記録とつながっていません（削除・挿入・並べ替え）
audit-break-truncated = 記録が { $last } 番目で終わっていますが、{ $head } 番目まで記録されていたはずです（最新の記録の削除）
audit-break-head-mismatch = 最後の記録（{ $seq } 番目）が控えと一致しません
audit-break-head-missing = 記録はありますが、チェーンの控えが削除されています
audit-break-emptied = 記録があるはずの監査ログが空です（記録の削除）

## API トークン
token-name-required = トークンの名称を入力してください
token-created = API トークン「{ $name }」を発行しました（ID: { $id }）:
token-shown-once = このトークンは再表示できません。安全な場所に保管してください。API には「Authorization: Bearer トークン」で送信します。
token-revoked-state = 失効
token-active-state = 有効
token-none = API トークンはありません。
token-revoked = API トークン { $id } を失効させました。

## 起動
serve-interrupted-jobs = 前回の終了時に実行中だったジョブ { $count } 件を「中断」にしました。mamori jobs list で確認してください。
serve-insecure-warning = 警告: TLS なしで LAN に公開しています。通信内容が盗聴・改ざんされるおそれがあります。
serve-tls-self-signed = TLS: 自己署名証明書（{ $path }）を使います。ブラウザに表示される証明書の指紋が次と一致することを確認してください:
serve-tls-certificate = TLS: 証明書 { $path } を使います。指紋:
serve-listening = mamori を起動しました: { $url }
serve-stopped = mamori を停止しました。

## エラー
err-prefix = エラー:
err-internal = 予期しない問題が発生しました。-v を付けて再実行すると詳細が表示されます。
err-job = ジョブが失敗しました: { $reason }
err-db-bad-url = データベースの指定（--db）が正しくありません: { $reason }
err-db-unreachable = データベース { $target } に接続できません（{ $reason }）。サーバが起動しているか、アドレスと認証情報を確認してください。
err-data-dir-unwritable = データディレクトリ { $path } に書き込めません（{ $reason }）。場所と権限を確認してください。
err-data-dir-locked = データディレクトリ { $path } は別の mamori（プロセス番号 { $pid }）が使用中です。
err-key-missing = 暗号鍵ファイル { $path } がありません。データベースと一緒にバックアップから復元してください（新しい鍵を作ると、登録済みの二要素認証がすべて使えなくなります）。
err-not-initialised = { $path } にデータがありません。先に mamori init を実行してください。
err-schema-too-new = このデータは新しいバージョンの mamori で作成されています（スキーマ { $found }、このプログラムは { $supported } まで対応）。mamori を更新してください。データは変更していません。
err-schema-outdated = データベースの更新が必要です（スキーマ { $found } → { $supported }）。mamori migrate を実行してください。
err-not-found = { $what } { $id } が見つかりません。
err-referenced = { $what } { $id } は他の記録から参照されているため削除できません。
err-conflict = { $what } { $id } は既に存在します。
err-job-finished = ジョブ { $id } は既に終了しています。
err-in-row = { $row } 行目: { $reason }
err-invalid = 入力内容が正しくありません: { $reason }
err-missing-reference = { $what } { $id } が、この医療機関に存在しない記録を参照しています。
err-database = データベースの処理に失敗しました（{ $code }）。-v を付けて再実行すると詳細が表示されます。
err-tls = TLS を設定できません: { $reason }
err-bind = { $addr } で待ち受けできません（{ $reason }）。他のプログラムが使用していないか確認してください。
err-bad-listen = 待ち受けアドレス「{ $value }」が正しくありません（例: 127.0.0.1:8780）。
err-bad-id = ID「{ $value }」の形式が正しくありません。
err-bad-status = 状態「{ $value }」はありません（queued, running, succeeded, failed, cancelled, interrupted のいずれか）。
err-audit-broken = 監査ログに改ざんの痕跡があります。上の内容を記録し、システム管理者に連絡してください。
err-job-not-succeeded = ジョブは「{ $status }」で終了しました。

## Web
web-running = mamori { $version } は稼働しています。
web-database = データベース
web-institutions = 登録医療機関数
web-setup = 初回セットアップ
web-setup-pending = 未完了（mamori serve の起動時に表示されたトークンで管理者を登録します）
web-setup-done = 完了
web-db-unavailable = データベースに接続できません。
api-not-found = 指定されたものが見つかりません。
api-invalid = リクエストの内容が正しくありません。
api-conflict = 他の記録と競合しています。
api-internal = サーバで問題が発生しました。
api-unauthenticated = 有効な API トークンが必要です。

## 原因（エラーの補足）
problem-no-scheme = 「postgres://ユーザ:パスワード@ホスト:ポート/DB名」の形式で指定してください
problem-unsupported-scheme = 対応していない種類です。postgres:// を指定してください
problem-no-host = 接続先のホストがありません
problem-no-path = ファイルの場所がありません
problem-syntax = 書式に誤りがあります
problem-not-found = 見つかりません
problem-permission-denied = 権限がありません
problem-not-a-directory = ディレクトリではありません
problem-read-only = 読み取り専用です
problem-storage-full = ディスクの空きがありません
problem-connection-refused = 接続を拒否されました
problem-connection-reset = 接続が切断されました
problem-timeout = 応答がありません
problem-unreachable = ネットワークに到達できません
problem-addr-in-use = 既に使用されています
problem-addr-not-available = この機器のアドレスではありません
problem-tls = TLS の確立に失敗しました
problem-auth-failed = 認証に失敗しました
problem-database-missing = データベースがありません
problem-cannot-open = データベースファイルを開けません

## Web 画面: 共通
web-footer = 医療機関のサイバーセキュリティ対策を支援します
web-back-to-top = トップへ戻る
web-forbidden-title = この画面を表示する権限がありません
web-forbidden-body = 権限が必要な場合は、医療機関のシステム管理者に依頼してください。
web-not-found-title = ページが見つかりません
web-not-found-body = アドレスが正しいか確認してください。
web-csrf-title = 操作を受け付けられませんでした
web-csrf-body = 画面の有効期限が切れたか、別のサイトからの送信です。画面を開き直して、もう一度操作してください。
web-error-title = 処理できませんでした
web-error-body = サーバで問題が発生しました。時間をおいても解決しない場合は、システム管理者に連絡してください。
web-error-code = 確認コードが正しくありません。認証アプリに表示されている最新の 6 桁を入力してください。
web-error-display-name = 氏名を入力してください。
web-error-kind = 種別を選択してください。
web-error-login-format = ログイン名は半角英小文字・数字・「. _ - @」の 3〜64 文字で入力してください。
web-error-password-mismatch = 確認用のパスワードが一致しません。
nav-dashboard = ダッシュボード
nav-jobs = ジョブ
nav-audit = 監査ログ
nav-users = 利用者と権限
nav-institutions = 医療機関の切替
nav-institutions-admin = 医療機関の管理
nav-users-admin = 利用者の管理
nav-audit-system = システム監査ログ
nav-admin-group = システム全体の管理
nav-logout = ログアウト
field-login = ログイン名
field-display-name = 氏名
field-password = パスワード
field-password-confirm = パスワード（確認）
field-code = 確認コード（6 桁）
field-institution-name = 医療機関名
field-institution-kind = 種別
password-rule = パスワードは英字・数字・記号を混在させた 8 文字以上にしてください（ログイン名を含むもの、推測されやすいものは使えません）。二要素認証を必須としているため、定期的な変更は不要です。
password-problem-too-short = パスワードが 8 文字未満です。
password-problem-too-long = パスワードが長すぎます（256 文字まで）。
password-problem-not-mixed = パスワードには英字・数字・記号をそれぞれ含めてください。
password-problem-contains-login = パスワードにログイン名を含めることはできません。
password-problem-common = 推測されやすいパスワードは使えません。
mfa-enrol-lead = 認証アプリ（Google Authenticator、Microsoft Authenticator など）で QR コードを読み取り、表示された 6 桁の確認コードを入力してください。
mfa-secret-label = QR コードを読み取れない場合は、次のキーを入力してください:
role-admin = システム管理者
role-operator = 担当者
role-auditor = 閲覧者
role-vendor = 事業者
role-admin-desc = この医療機関のすべての操作と、利用者・権限の管理ができます。
role-operator-desc = 台帳などのデータの編集と、ジョブ（取込み・検査など）の実行ができます。
role-auditor-desc = 監査ログを含むすべての情報を閲覧できます。変更はできません。
role-vendor-desc = 割り当てられた医療機関の、事業者向けの画面だけを利用できます。
ledger-assets = 機器台帳
ledger-software = ソフトウェア台帳
ledger-staff = 職員名簿
ledger-accounts = アカウント台帳
ledger-vendors = 事業者台帳
ledger-remote-maintenance = リモートメンテナンス接続台帳
severity-critical = 緊急
severity-high = 高
severity-medium = 中
severity-low = 低

## Web 画面: 初回セットアップ
setup-title = 初回セットアップ
setup-mfa-title = 二要素認証の登録
setup-lead = mamori の最初の管理者（システム全体の管理者）を登録します。サーバの起動時に表示されたセットアップ用トークンが必要です。
setup-token = セットアップ用トークン
setup-token-hint-web = mamori init または mamori serve を実行した画面に表示されています。
setup-error-token = セットアップ用トークンが正しくないか、期限が切れています。mamori serve を起動し直すと新しいトークンが表示されます。
setup-admin = 管理者
setup-institution = 医療機関（後から追加することもできます）
setup-next = 次へ（二要素認証の登録）
setup-finish = 登録を完了する

## Web 画面: ログイン
login-title = ログイン
login-mfa-title = 確認コードの入力
login-next = 次へ
login-submit = ログイン
login-cancel = 中止してログイン画面に戻る
login-hint = 一定回数続けて失敗すると、しばらくの間ログインできなくなります。
login-failed = ログイン名またはパスワードが正しくないか、現在ログインできない状態です。
login-code-failed = 確認コードが正しくありません。
login-mfa-lead = 認証アプリに表示されている 6 桁の確認コードを入力してください。

## Web 画面: ダッシュボード
dashboard-title = ダッシュボード
dashboard-choose = 表示する医療機関を選んでください。
dashboard-no-institution = 利用できる医療機関がありません。
dashboard-findings = 未対応の指摘事項
dashboard-ledgers = 台帳の登録件数
dashboard-jobs = 最近のジョブ
dashboard-audit = 監査ログの記録数
dashboard-audit-hint = すべての操作はハッシュチェーンで改ざん検知できる形で記録されています。

## Web 画面: ジョブ
jobs-title = ジョブ
jobs-lead = 取込み・検査・検証などの時間のかかる処理です。進捗は自動で更新されます。
jobs-cancel = 中止

## Web 画面: 監査ログ
audit-title = 監査ログ
audit-institution-heading = この医療機関で行われた操作の記録です。
audit-system-heading = システム全体の操作（ログイン、利用者管理など）の記録です。
audit-filter-action = 操作
audit-filter-actor = 操作者
audit-filter = 絞り込む
audit-details = 内容
audit-shown-of = 全 { $total } 件のうち、最新の { $shown } 件を表示しています。
audit-verify-button = 改ざんがないか検証する
audit-verify-running = 検証に時間がかかっています。ジョブ画面で結果を確認してください。
audit-web-ok = 改ざんは検出されませんでした。

## Web 画面: 利用者と権限
users-title = 利用者と権限
users-role = 権限
users-mfa = 二要素認証
users-mfa-yes = 登録済み
users-mfa-pending = 初回ログイン時に登録
users-mfa-first-login = 二要素認証は本人が初回ログイン時に登録します。
users-disabled = 無効
users-locked = 一時ロック中
users-active = 有効
users-state = 状態
users-last-login = 最終ログイン
users-remove = この医療機関から外す
users-change = 変更
users-new = 新しい利用者を登録
users-existing = 登録済みの利用者を追加
users-initial-password = 初期パスワード
users-add = 追加する
users-saved = 保存しました。
users-installation-admin = システム全体の管理者
users-enable = 有効にする
users-disable = 無効にする
users-reset-mfa = 二要素認証を再登録させる
users-set-password = パスワードを再設定
users-revoke-sessions = ログイン中の接続を切断
users-roles-heading = 権限の種類
users-error-role = 権限を選択してください。
users-error-self = 自分自身の権限や状態は変更できません。他の管理者に依頼してください。
users-error-login-taken = このログイン名は既に使われています。
users-error-unknown-login = そのログイン名の利用者は登録されていません。

## Web 画面: 医療機関の管理・利用者の管理
institutions-title = 医療機関の管理
institutions-add = 医療機関を追加
institutions-open = 開く
institutions-error-name = 医療機関名を入力してください。
institutions-error-code = 医療機関コードは数字 7〜10 桁で入力してください。
admin-users-title = 利用者の管理

## Web 画面: 個人設定
profile-title = 個人設定
profile-password = パスワードの変更
profile-current-password = 現在のパスワード
profile-new-password = 新しいパスワード
profile-change = 変更する
profile-error-current = 現在のパスワードが正しくありません。
profile-error-same = 新しいパスワードが現在のものと同じです。
profile-mfa = 二要素認証（認証アプリ）
profile-mfa-hint = 機種変更などで認証アプリを登録し直す場合に使います。
profile-mfa-start = 登録し直す
profile-mfa-confirm = 登録する
profile-mfa-done = 認証アプリを登録し直しました。
profile-sessions = ログイン中の接続
profile-last-seen = 最終操作
profile-browser = ブラウザ
profile-this-session = この接続
profile-tokens = API トークン
profile-token-scope = 範囲
profile-token-institution = 医療機関
profile-token-role = 権限の上限
profile-token-all-institutions = 所属するすべての医療機関
profile-token-my-role = 自分の権限まで
profile-token-create = 発行する
profile-token-created = API トークンを発行しました:
profile-token-revoke = 失効させる
api-forbidden = この操作を行う権限がありません。
problem-tls-file-unreadable = 証明書または鍵のファイルを読めません
problem-tls-file-unwritable = 証明書または鍵のファイルを書き込めません
problem-tls-no-certificate = ファイルに証明書（PEM 形式）がありません
problem-tls-no-private-key = ファイルに秘密鍵（PEM 形式）がありません
problem-tls-key-encrypted = 秘密鍵がパスワードで保護されています。保護を外した鍵を指定してください
problem-tls-pem-malformed = PEM 形式として読めません
problem-tls-key-mismatch = 秘密鍵が証明書と対応していません
problem-tls-rejected = 証明書または鍵を使用できません
problem-tls-invalid-hostname = ホスト名が正しくありません
problem-tls-generate-failed = 自己署名証明書を作成できません

## mamori ledger（台帳の表示・書き出し）
cli-ledger = 台帳（機器台帳・職員名簿・事業者台帳など）を表示し、Excel や CSV に書き出します
cli-ledger-list = 台帳の内容を表示します
cli-ledger-export = 台帳を XLSX または CSV ファイルに書き出します
cli-ledger-template = 台帳の記入用ひな形（見出し行と記入例）を書き出します
cli-arg-ledger-kind = 台帳の種類（assets, software, staff, accounts, vendors, contracts, remote-maintenance, mds-sds, segments, sites）
cli-arg-format = ファイル形式（xlsx または csv）
cli-arg-encoding = CSV の文字コード（cp932: Excel の標準、utf8-bom: CP932 で表せない文字を含む場合）
cli-arg-output = 書き出すファイル
ledger-none = { $ledger }に記録はありません。
ledger-exported = { $count } 件を { $path } に書き出しました。
ledger-template-written = { $ledger }の記入用ひな形を { $path } に書き出しました。
err-bad-ledger-kind = 台帳の種類「{ $value }」はありません（{ $kinds } のいずれかを指定してください）。
err-no-institution = 医療機関が登録されていません。mamori institution add で登録してください。
err-institution-required = 医療機関が { $count } 件登録されています。--institution で ID を指定してください（mamori institution list で確認できます）。
err-not-representable = { $row } 行目の「{ $column }」にある文字「{ $char }」は CP932（Shift_JIS）で書き出せません。--encoding utf8-bom を指定してください。
err-export = ファイルを作成できません: { $reason }
err-write-file = { $path } に書き込めません（{ $reason }）。書き出し先のフォルダと権限を確認してください。

## 台帳の取込み
cli-ledger-import = Excel（XLSX・XLS・ODS）または CSV の台帳を取り込みます（既定は確認のみで、--yes を付けると登録します）
cli-arg-file = 取り込むファイル
cli-arg-import-encoding = CSV の文字コード（auto: 自動判定、utf8、cp932: Shift_JIS）
cli-arg-yes = 確認結果に誤りがなければ登録します
import-summary = シート「{ $sheet }」の { $header } 行目を見出しとして読み取りました。新規 { $create } 件、更新 { $update } 件、変更なし { $unchanged } 件です。
import-unmapped = 取り込まない列: { $column } 列「{ $title }」
import-problem-line = { $level } { $sheet } { $row } 行目 { $column }: { $what }
import-level-error = [誤り]
import-level-warning = [注意]
import-dry-run = 確認のみで、まだ登録していません。内容に問題がなければ --yes を付けて実行してください。
import-done = 登録しました（新規 { $create } 件、更新 { $update } 件）。
import-problem-other = 値を読み取れません（{ $code }）
import-problem-date-empty = 日付が空です
import-problem-date-unrecognised = 日付として読み取れません（例: 2026/4/1、令和8年4月1日、R8.4.1）
import-problem-date-serial-out-of-range = 日付の値が範囲外です
import-problem-date-outside-era = 元号の期間外の日付です
import-problem-date-no-such-day = 存在しない日付です
import-problem-not-a-bool = 「はい／いいえ」「○／×」などで入力してください
import-problem-not-an-ip = IP アドレスとして読み取れません
import-problem-not-a-mac = MAC アドレスとして読み取れません
import-problem-not-an-integer = 整数として読み取れません
import-problem-not-a-cidr = ネットワークアドレス（例: 192.168.10.0/24）として読み取れません
import-problem-unknown-asset-kind = 機器の種別が分かりません（サーバ、端末PC、ネットワーク機器、医療機器、IoT、その他のいずれか）
import-problem-unknown-choice = 選択肢にない値です
import-problem-unknown-reference = 登録されていない名称です（空欄として取り込みます）
import-problem-ambiguous-reference = 同じ名称が複数登録されています（空欄として取り込みます）
import-problem-duplicate-key = ファイルの中で同じ機器・人などが重複しています
import-problem-formula-error = 計算式のエラーです（Excel で修正してください）
import-problem-missing-required = 必須の項目が空です
import-problem-invalid = 値が正しくありません
import-read-empty = ファイルが空です
import-read-file-too-large = ファイルが大きすぎます
import-read-too-many-rows = 行数が多すぎます
import-read-password-protected = パスワードで保護されたファイルです。Excel で保護を解除して保存し直してください
import-read-damaged = ファイルが壊れているか、途中で切れています
import-read-encoding = 文字コードを判定できません。--encoding を指定してください
import-read-not-text = Excel ファイルでも CSV でもありません
import-read-csv-malformed = CSV の形式が正しくありません
err-read-file = ファイル { $path } を読めません（{ $reason }）。
err-import-unreadable = 台帳として読み取れません: { $what }。
err-import-unreadable-row = 台帳として読み取れません: { $what }（{ $row } 行目）。
err-import-no-header = { $ledger }の見出し行が見つかりません。列の見出し（例: 機器名、IPアドレス）が入った行があるか確認してください。
err-import-has-errors = 誤りが { $count } 件あるため登録していません。上の一覧を見て修正してから、もう一度取り込んでください。
nav-ledgers = 台帳
ledger-web-title = 台帳
ledger-web-count = 全 { $total } 件（{ $shown } 件を表示）
ledger-web-empty = この台帳にはまだ記録がありません。
ledger-web-import-hint = Excel や CSV の台帳は、サーバで mamori ledger import ファイル名 --kind 種類 を実行して取り込めます（画面からの取込みは今後追加します）。
