package store

import "strings"

// Refusal says in an operator's words why the database refused a value: the
// field it belongs to, as the operator names it (a flag, a CSV column or a
// YAML key), and what is wrong with it, to follow the field and its value.
// Secret is set when the field holds a secret whose value must never be shown.
type Refusal struct {
	Field   string
	Problem string
	Secret  bool
}

// refusals words every constraint of the tables operators write (callers,
// caller_phones, menus, surveys and their versions, numbers, schedules). A test walks the
// constraints of the schema, so a new one without a message fails it.
var refusals = map[string]Refusal{
	"callers_pkey":               {Field: "caller", Problem: "already exists"},
	"callers_account_key":        {Field: "account", Problem: "already exists"},
	"callers_account_digits":     {Field: "account", Problem: "must be 1 to 20 digits"},
	"callers_language_check":     {Field: "language", Problem: "is not an Asterisk language code such as en or es_MX"},
	"callers_status_check":       {Field: "status", Problem: "must be active or disabled"},
	"callers_pin_pair":           {Field: "pin", Problem: "needs both a key id and a hash", Secret: true},
	"callers_pin_failures_check": {Field: "pin failures", Problem: "must not be negative"},
	"callers_pin_version_check":  {Field: "pin", Problem: "has a hash version this server does not know", Secret: true},

	"caller_phones_pkey":           {Field: "number", Problem: "is given twice"},
	"caller_phones_e164_key":       {Field: "number", Problem: "already belongs to another caller"},
	"caller_phones_e164_format":    {Field: "number", Problem: "is not a phone number in E.164 form (+ and 7 to 15 digits)"},
	"caller_phones_caller_id_fkey": {Field: "caller", Problem: "no longer exists"},

	"menus_pkey":       {Field: "menu", Problem: "already exists"},
	"menus_key_key":    {Field: "menu", Problem: "already exists"},
	"menus_key_format": {Field: "menu", Problem: "must be lower-case letters, digits, '_', '.' or '-', starting with a letter or digit, at most 63 characters"},

	"menu_versions_pkey":                 {Field: "menu version", Problem: "already exists"},
	"menu_versions_menu_id_fkey":         {Field: "menu", Problem: "does not exist"},
	"menu_versions_menu_version_key":     {Field: "menu version", Problem: "was stored at the same time by someone else; apply again"},
	"menu_versions_version_check":        {Field: "menu version", Problem: "must be 1 or more"},
	"menu_versions_timeout_check":        {Field: "timeout", Problem: "must be more than 0"},
	"menu_versions_max_digits_check":     {Field: "max_digits", Problem: "must be 1 to 32"},
	"menu_versions_max_attempts_check":   {Field: "max_attempts", Problem: "must be 1 or more"},
	"menu_versions_failure_action_check": {Field: "on_failure", Problem: "must be operator, hangup, transfer or submenu"},

	"menu_options_pkey":                 {Field: "option digits", Problem: "are given twice in one menu"},
	"menu_options_menu_version_id_fkey": {Field: "menu version", Problem: "does not exist"},
	"menu_options_digits_format":        {Field: "option digits", Problem: "must be 1 to 32 of 0-9, * and #"},
	"menu_options_action_check":         {Field: "option action", Problem: "is not an action the IVR knows"},
	"menu_options_schedule_branches":    {Field: "option closed", Problem: "must be given with a schedule, and closed and holiday only with one"},

	"surveys_pkey":       {Field: "survey", Problem: "already exists"},
	"surveys_key_key":    {Field: "survey", Problem: "already exists"},
	"surveys_key_format": {Field: "survey", Problem: "must be lower-case letters, digits, '_', '.' or '-', starting with a letter or digit, at most 63 characters"},

	"survey_versions_pkey":               {Field: "survey version", Problem: "already exists"},
	"survey_versions_survey_id_fkey":     {Field: "survey", Problem: "does not exist"},
	"survey_versions_survey_version_key": {Field: "survey version", Problem: "was stored at the same time by someone else; apply again"},
	"survey_versions_version_check":      {Field: "survey version", Problem: "must be 1 or more"},

	"survey_questions_pkey":                   {Field: "question position", Problem: "is given twice in one survey"},
	"survey_questions_survey_version_id_fkey": {Field: "survey version", Problem: "does not exist"},
	"survey_questions_key_key":                {Field: "question key", Problem: "is given twice in one survey"},
	"survey_questions_position_check":         {Field: "question position", Problem: "must be 1 or more"},
	"survey_questions_allowed_digits_format":  {Field: "allowed digits", Problem: "may hold only 0-9, * and #"},
	"survey_questions_range_pair":             {Field: "range", Problem: "needs both a minimum and a maximum"},
	"survey_questions_range_order":            {Field: "range", Problem: "has its minimum above its maximum"},
	"survey_questions_one_answer_kind":        {Field: "answers", Problem: "must be either allowed digits or a range, not both or neither"},

	"schedules_pkey":            {Field: "schedule", Problem: "is defined twice"},
	"schedules_key_format":      {Field: "schedule", Problem: "must be lower-case letters, digits, '_', '.' or '-', starting with a letter or digit, at most 63 characters"},
	"schedules_time_zone_check": {Field: "time_zone", Problem: "must be given"},
	"schedules_rules_check":     {Field: "schedule", Problem: "has rules that are not a mapping"},

	"numbers_pkey":              {Field: "number", Problem: "is defined twice"},
	"numbers_number_format":     {Field: "number", Problem: "must be E.164 (+ and 7 to 15 digits) or an extension of 0-9, * and #"},
	"numbers_menu_key_fkey":     {Field: "menu", Problem: "does not exist"},
	"numbers_schedule_key_fkey": {Field: "schedule", Problem: "does not exist, or is still used by a number"},
	"numbers_language_check":    {Field: "language", Problem: "is not an Asterisk language code such as en or es_MX"},
	"numbers_schedule_branches": {Field: "closed", Problem: "must be given with a schedule, and closed and holiday only with one"},
}

// RefusalOf returns the operator's words for the database constraint named
// constraint, the Constraint of an *ivr.ConflictError or
// *ivr.InvalidValueError. A NOT NULL constraint (table_column_not_null) names
// its column; ok is false for a constraint the store has no words for.
func RefusalOf(constraint string) (r Refusal, ok bool) {
	if r, ok := refusals[constraint]; ok {
		return r, true
	}
	if col, ok := strings.CutSuffix(constraint, "_not_null"); ok {
		for _, table := range []string{"caller_phones", "callers", "menu_versions", "menu_options", "menus",
			"survey_questions", "survey_versions", "surveys"} {
			if c, ok := strings.CutPrefix(col, table+"_"); ok {
				return Refusal{Field: strings.ReplaceAll(c, "_", " "), Problem: "must be given"}, true
			}
		}
	}
	return Refusal{}, false
}
