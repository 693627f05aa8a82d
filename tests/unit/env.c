/*
 * Unit tests of pgbak-run's environment policy (pgbak-run/env.c): which of
 * its variables each kind of child gets.  Each secret is recognised both
 * by its usual name and by its value under any other name, since the
 * settings may name any variable in ${NAME}.  Every drop has its twin: a
 * variable that must stay, stays.
 */
#include <stdlib.h>
#include <string.h>

#include "../../pgbak-run/run.h"
#include "tap.h"

static char *environ_in[] = {
	"PATH=/usr/bin",
	"PGPASSWORD=inherited-pw",
	"DB_PW=db-secret-1",		/* a database's password: ${DB_PW} */
	"OTHER_DB_PW=db-secret-2",	/* another database's, by literal */
	"PING=https://hc.example/tok3n",	/* ping_url: ${PING} */
	"CHECK_PW=check-secret-4",	/* restore_check's password: ${CHECK_PW} */
	"AWS_ACCESS_KEY_ID=AKIDTEST",
	"AWS_SECRET_ACCESS_KEY=aws-secret",
	"AWS_SESSION_TOKEN=aws-token",
	"MY_S3_SECRET=s3-secret-9",	/* access_secret: ${MY_S3_SECRET} */
	"MY_S3_TOKEN=s3-token-7",	/* session_token: ${MY_S3_TOKEN} */
	"AWS_CONTAINER_AUTHORIZATION_TOKEN=ecs-auth",
	"AWS_PROFILE=prod",
	"HOME=/home/backup",
	"PGBAK_BUCKET=b",
	"EMPTY=",
	"NOEQUALS",
	NULL
};

/* Whether the variable named name is in v. */
static int
has(char **v, const char *name)
{
	size_t n = strlen(name);

	for (; *v; v++)
		if (strncmp(*v, name, n) == 0 && (*v)[n] == '=')
			return 1;
	return 0;
}

static size_t
count(char **v)
{
	size_t n = 0;

	while (v[n])
		n++;
	return n;
}

int
main(void)
{
	struct conf_db dbs[3];
	struct conf c;
	char **s3, **bare, **none;

	memset(&c, 0, sizeof c);
	memset(dbs, 0, sizeof dbs);
	dbs[0].password = "db-secret-1";
	dbs[1].password = "db-secret-2";
	dbs[2].password = "";		/* an empty password matches nothing */
	c.dbs = dbs;
	c.ndbs = 3;
	c.ping_url = "https://hc.example/tok3n";
	c.s3.access_secret = "s3-secret-9";
	c.restore_check.password = "check-secret-4";
	c.s3.session_token = "s3-token-7";

	s3 = env_for(environ_in, &c, ENV_S3);
	bare = env_for(environ_in, &c, ENV_BARE);
	if (!ok(s3 && bare, "env_for builds both environments"))
		return tap_done();

	ok(!has(s3, "PGPASSWORD"), "S3 child: no PGPASSWORD");
	ok(!has(s3, "DB_PW") && !has(s3, "OTHER_DB_PW"),
	    "S3 child: no variable whose value is a database's password");
	ok(!has(s3, "PING"), "S3 child: no variable holding the ping_url");
	ok(!has(s3, "CHECK_PW") && !has(bare, "CHECK_PW"),
	    "S3 and bare child: no variable holding the restore_check password");
	ok(has(s3, "AWS_ACCESS_KEY_ID") && has(s3, "AWS_SECRET_ACCESS_KEY") &&
	    has(s3, "AWS_SESSION_TOKEN") && has(s3, "MY_S3_SECRET") && has(s3, "MY_S3_TOKEN") &&
	    has(s3, "AWS_CONTAINER_AUTHORIZATION_TOKEN"),
	    "S3 child: keeps the S3 credentials, by name and by value");
	ok(has(s3, "AWS_PROFILE") && has(s3, "HOME"),
	    "S3 child: keeps what finds the profile files (HOME, AWS_PROFILE)");
	ok(has(s3, "PATH") && has(s3, "PGBAK_BUCKET") && has(s3, "EMPTY"),
	    "S3 child: keeps the rest (PATH, PGBAK_BUCKET, an empty value)");
	ok(!has(s3, "NOEQUALS") && count(s3) == 11, "S3 child: 11 variables, none without '='");

	ok(!has(bare, "PGPASSWORD") && !has(bare, "DB_PW") && !has(bare, "OTHER_DB_PW") &&
	    !has(bare, "PING"), "bare child: no database secret either");
	ok(!has(bare, "AWS_SECRET_ACCESS_KEY") && !has(bare, "AWS_SESSION_TOKEN"),
	    "bare child: no S3 secret by name");
	ok(!has(bare, "MY_S3_SECRET"), "bare child: no variable holding the s3 access_secret");
	ok(!has(bare, "MY_S3_TOKEN"), "bare child: no variable holding the s3 session_token");
	ok(!has(bare, "AWS_CONTAINER_AUTHORIZATION_TOKEN"),
	    "bare child: no container endpoint's authorization token");
	ok(has(bare, "AWS_ACCESS_KEY_ID") && has(bare, "PATH") && has(bare, "AWS_PROFILE") &&
	    count(bare) == 6, "bare child: keeps the key id (not a secret) and the rest, "
	    "6 variables");
	free(s3);
	free(bare);

	/* Twin: with no secret in the settings only the names decide. */
	memset(&c, 0, sizeof c);
	none = env_for(environ_in, &c, ENV_S3);
	ok(none && has(none, "DB_PW") && has(none, "PING") && has(none, "CHECK_PW") &&
	    !has(none, "PGPASSWORD"),
	    "no secret in the settings: only PGPASSWORD is dropped for an S3 child");
	free(none);
	none = env_for(environ_in, &c, ENV_BARE);
	ok(none && has(none, "MY_S3_SECRET") && !has(none, "AWS_SECRET_ACCESS_KEY"),
	    "...and for a bare child the S3 secrets by name");
	free(none);

	ok(env_name_is("PGPASSWORD=x", "PGPASSWORD") && !env_name_is("PGPASSWORDX=x",
	    "PGPASSWORD") && !env_name_is("PGPASS=x", "PGPASSWORD"),
	    "env_name_is matches the whole name only");
	return tap_done();
}
