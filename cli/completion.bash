# bash completion for vmlab (installed by `make install` as
# PREFIX/share/bash-completion/completions/vmlab).  Everything it offers
# comes from the vmlab being completed, so it never falls out of step:
# commands from `vmlab help --list`, options from `vmlab help COMMAND`,
# configuration keys from `vmlab config -v`, policies from `vmlab
# policies`, presets from `vmlab config --presets`, trace formats from
# `vmlab formats`.  --plugin objects already on the line are passed on,
# so a plug-in's policies and keys complete too.

_vmlab_words() # COMMAND ARGS...: run it, errors hidden
{
	"$@" 2>/dev/null
}

_vmlab_policies() # the replacement policies (sees _vmlab's vmlab and plugins)
{
	_vmlab_words "$vmlab" policies "${plugins[@]}" | awk 'NR > 1 && NF == 0 {exit} NR > 1 {print $1}'
}

_vmlab_values() # KEY: the values -s KEY= can take (policies, choices)
{
	case $1 in
	replacement.policy) _vmlab_policies ;;
	largepage.policy)
		_vmlab_words "$vmlab" policies "${plugins[@]}" | awk '/^large-page/ {f = 1; next} f && NF {print $1}' ;;
	tlb.*.replacement)
		_vmlab_words "$vmlab" policies "${plugins[@]}" |
			awk '/^TLB in-set/ {f = 1; next} f && NF == 0 {exit} f {print $1}' ;;
	*) # a choice key: its [a|b|c] list in `vmlab config -v`
		_vmlab_words "$vmlab" config -v "${plugins[@]}" |
			awk -v k="$1" '$1 == k && match($0, /\[[^]]*\]$/) {
				s = substr($0, RSTART + 1, RLENGTH - 2); gsub(/[|,]/, " ", s); print s }' ;;
	esac
}

_vmlab()
{
	local cur prev cword vmlab
	cur=${COMP_WORDS[COMP_CWORD]}
	prev=${COMP_WORDS[COMP_CWORD-1]}
	cword=$COMP_CWORD
	vmlab=${COMP_WORDS[0]}
	COMPREPLY=()
	if [ "$cword" -eq 1 ]; then
		COMPREPLY=($(compgen -W "$(_vmlab_words "$vmlab" help --list) -V --version --help" -- "$cur"))
		return
	fi
	local cmd=${COMP_WORDS[1]} i plugins=()
	for ((i = 2; i < cword; i++)); do
		if [ "${COMP_WORDS[i]}" = --plugin ] && [ $((i + 1)) -lt "$cword" ]; then
			plugins+=(--plugin "${COMP_WORDS[i+1]}")
		fi
	done
	# bash splits "KEY=VALUE" at '=' (COMP_WORDBREAKS): -s KEY = VALUE
	local sk=""
	if [ "$prev" = = ] && [ "$cword" -ge 3 ]; then
		case ${COMP_WORDS[cword-3]} in -s|--set) sk=${COMP_WORDS[cword-2]} ;; esac
	elif [ "$cur" = = ] && [ "$cword" -ge 2 ]; then
		case ${COMP_WORDS[cword-2]} in -s|--set) sk=$prev ;; esac
	fi
	if [ -n "$sk" ]; then
		local val=$cur pre=""
		[ "$cur" = = ] && val="" pre="="
		COMPREPLY=($(compgen -P "$pre" -W "$(_vmlab_values "$sk")" -- "$val"))
		return
	fi
	case $prev in
	help)
		if [ "$cword" -eq 2 ]; then
			COMPREPLY=($(compgen -W "$(_vmlab_words "$vmlab" help --list)" -- "$cur"))
		fi
		return ;;
	--os)
		COMPREPLY=($(compgen -W "$(_vmlab_words "$vmlab" config --presets | sed -n 's/^os //p')" -- "$cur"))
		return ;;
	--machine)
		COMPREPLY=($(compgen -W "$(_vmlab_words "$vmlab" config --presets | sed -n 's/^machines //p')" -- "$cur"))
		return ;;
	--policy)
		COMPREPLY=($(compgen -W "$(_vmlab_policies)" -- "$cur"))
		return ;;
	--estimator)
		COMPREPLY=($(compgen -W "hot split adj fixed" -- "$cur"))
		return ;;
	--format)
		COMPREPLY=($(compgen -W "auto $(_vmlab_words "$vmlab" formats | awk 'NR > 1 {print $1}')" -- "$cur"))
		return ;;
	-s|--set)
		if [[ $cur == *=* ]]; then
			local key=${cur%%=*} val=${cur#*=}
			local vals=$(_vmlab_values "$key")
			COMPREPLY=($(compgen -P "$key=" -W "$vals" -- "$val"))
		else
			compopt -o nospace 2>/dev/null
			COMPREPLY=($(compgen -S = -W "$(_vmlab_words "$vmlab" config -v "${plugins[@]}" | awk '{print $1}')" -- "$cur"))
		fi
		return ;;
	-c|--config|-o|--output|--plugin|--keep|--collect)
		COMPREPLY=($(compgen -f -- "$cur"))
		return ;;
	esac
	if [[ $cur == -* ]]; then
		COMPREPLY=($(compgen -W "$(_vmlab_words "$vmlab" help "$cmd" | grep -o -- '--[a-z][a-z0-9-]*' | sort -u) --help" -- "$cur"))
	else
		COMPREPLY=($(compgen -f -- "$cur"))
	fi
}
complete -F _vmlab vmlab
