// Package catalog reads and writes menus, surveys, schedules and dialled
// numbers as YAML files, the way an operator keeps them under version
// control: it parses a file, validates the whole of it (reporting every
// mistake with its line), compares two versions field by field, and writes
// stored versions back as YAML.
//
// A menus file holds a list of menus:
//
//	menus:
//	  - key: main
//	    prompt: ivr/main-menu          # Asterisk sound name, no extension
//	    timeout: 5s                    # default 5s
//	    max_attempts: 3                # default 3
//	    on_failure: operator           # operator or hangup (default)
//	    options:
//	      - digits: "1"
//	        action: record
//	        label: Leave a message
//	      - digits: "2"
//	        action: survey
//	        target: satisfaction
//	      - digits: "9"
//	        action: submenu
//	        target: billing
//
// Actions are submenu, survey and transfer (each with a target), and record,
// play_messages, change_pin, operator, repeat and hangup (without one). An
// option with a schedule runs its action only while the schedule is open, and
// its closed or holiday branch otherwise (see ParseNumbers for branches).
//
// A schedules file holds opening hours (ParseSchedules) and a numbers file
// each dialled number's entry menu, language and schedule (ParseNumbers); the
// repository's schedules.yaml and numbers.yaml show both.
//
// A surveys file holds a list of surveys whose questions accept either single
// keys (allowed_digits) or a number in an inclusive range:
//
//	surveys:
//	  - key: satisfaction
//	    intro_prompt: ivr/survey-intro
//	    thank_you_prompt: ivr/survey-thanks
//	    questions:
//	      - key: overall
//	        prompt: ivr/survey-overall
//	        allowed_digits: "12345"
//	        required: true
//	      - key: age
//	        prompt: ivr/survey-age
//	        range: {min: 18, max: 120}
//
// Digits are read as written, so digits: 01 stays "01".
package catalog
