#!/usr/bin/env bash
# Runs the nested ansible-playbook of each role case (role-run.yml), a few at a time, and waits
# for all of them: each run's output goes to RUNS_DIR/<id>.out and its exit status to
# RUNS_DIR/<id>.rc. Started in the background while the module cases run on the hosts: the role
# cases stop on the controller, so the two hardly compete.
# usage: role-cases.sh ANSIBLE_PLAYBOOK INVENTORY ROLE_RUN_YML RUNS_DIR CASES_JSON PARALLEL ID:HOST...
set -u
playbook=$1 inventory=$2 role_run=$3 runs_dir=$4 cases=$5 parallel=$6
shift 6
run_one() {
    local id=${1%%:*} host=${1#*:}
    "$playbook" -i "$inventory" "$role_run" -e "lab_run_host=$host" -e "lab_run_file=$cases" \
        -e "lab_run_id=$id" -e "lab_runs_dir=$runs_dir" > "$runs_dir/$id.out" 2>&1
    echo $? > "$runs_dir/$id.rc"
}
export -f run_one
export playbook inventory role_run runs_dir cases
# shellcheck disable=SC2016 # $1 is expanded by the inner bash, on purpose
printf '%s\n' "$@" | xargs -P "$parallel" -I{} bash -c 'run_one "$1"' _ {}
