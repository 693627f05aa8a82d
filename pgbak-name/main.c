/*
 * pgbak-name: print the object key (or the local file name) of one day's
 * backup of a database, as pgbak-run would compute it.
 *
 * Naming is the one rule every other program must agree on, so it lives in
 * lib/name.c and this program only exposes it: scripts that restore, prune
 * or check backups ask it for the key instead of re-implementing the rules.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "name.h"

#define USAGE "usage: pgbak-name [-fgE] [-D DATE] PREFIX DATABASE"

static noreturn void
usage(void)
{
	printf("%s\n"
	    "Print the object key of a backup of DATABASE under PREFIX.\n"
	    "  -f, --file       print the local file name instead\n"
	    "  -D, --date DATE  the backup's day, YYYYMMDD or YYYY-MM-DD (default today)\n"
	    "  -g, --globals    name the object of the cluster's globals (roles)\n"
	    "  -E, --encrypted  name an object encrypted with age: .gz.age\n"
	    "      --help       print this help\n"
	    "      --version    print the version\n", USAGE);
	log_help_done();
}

int
main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "file", no_argument, NULL, 'f' },
		{ "date", required_argument, NULL, 'D' },
		{ "globals", no_argument, NULL, 'g' },
		{ "encrypted", no_argument, NULL, 'E' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 },
	};
	const char *date = NULL;
	char ymd[9], *key, *local;
	struct log_err e;
	int ch, file = 0, flags = 0;

	log_init(argv[0]);
	opterr = 0;
	while ((ch = getopt_long(argc, argv, ":fD:gEh", opts, NULL)) != -1) {
		switch (ch) {
		case 'f':
			file = 1;
			break;
		case 'D':
			date = optarg;
			break;
		case 'g':
			flags |= NAME_GLOBALS;
			break;
		case 'E':
			flags |= NAME_AGE;
			break;
		case 'h':
			usage();
		case 'V':
			log_version();
		default:
			die_badopt(ch, argv, USAGE);
		}
	}
	if (argc - optind != 2)
		die(EXIT_USAGE, "%s; %s", argc - optind < 2 ? "missing PREFIX or DATABASE" :
		    "too many arguments", USAGE);

	if (date == NULL)
		name_today(ymd);
	else if (name_date(date, ymd, &e) == -1)
		die_err(&e);
	if (name_object(argv[optind], argv[optind + 1], ymd, flags, &key, &local, &e) == -1)
		die_err(&e);
	printf("%s\n", file ? local : key);
	free(key);
	free(local);
	return log_stdout_done(EXIT_OK);
}
