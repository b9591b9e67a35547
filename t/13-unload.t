#!/usr/bin/perl
# SPDX-License-Identifier: Apache-2.0
# 13-unload.t - httpd reloaded without mod_fcgi_pm (a2dismod, then a
# graceful): the manager notices that no configuration follows and retires
# its workers; httpd itself serves on.
use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";
use Test::More;
use FcgiPmTest qw(wait_for pid_alive app_conf);

my $t = FcgiPmTest->new;
my $hello = $t->app('hello');
$t->write_conf(app_conf('hello', "$hello --app=hello", 'Processes 2', 'ShutdownTimeout 5'));
ok($t->start, 'httpd started');
ok($t->wait_ok('/hello/', 20), 'app answers');
my $manager = $t->manager_pid;
ok($manager, "manager $manager");
my @workers = $t->workers(match => qr/--app=hello\b/);
is(scalar @workers, 2, '2 workers');

# The same server without the module and its app.
$t->write_conf("# mod_fcgi_pm disabled\n", module => 0);
ok(eval { $t->graceful }, 'graceful without mod_fcgi_pm') or diag($@);
is($t->get('/')->{status} =~ /^[24]\d\d$/ ? 1 : 0, 1, 'httpd serves on');
ok(pid_alive($manager), 'the manager waits a while for a configuration');
ok(wait_for(sub { !pid_alive($manager) }, 60),
   'then the manager exits') or diag($t->log_tail(20));
ok(wait_for(sub { !grep { pid_alive($_) } @workers }, 10), 'and its workers');
like($t->log_text, qr/httpd reloaded without mod_fcgi_pm/, 'and says why');
ok($t->httpd_pid, 'httpd still runs');

# Loading the module again brings the app back.
$t->write_conf(app_conf('hello', "$hello --app=hello", 'Processes 2'));
ok(eval { $t->graceful }, 'graceful with mod_fcgi_pm again') or diag($@);
ok($t->wait_ok('/hello/', 20), 'app answers again');
ok($t->stop, 'stop');
done_testing;
