#!/usr/bin/perl
# SPDX-License-Identifier: Apache-2.0
# 01-configtest.t - "apache2 -f CONF -t" rejects bad mod_fcgi_pm
# configuration with an error naming the config file and the line of the
# offending directive, and accepts a valid configuration ("Syntax OK")
# without starting anything.
use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";
use Test::More;
use Time::HiRes qw(time sleep);
use File::Basename qw(basename);
use FcgiPmTest qw(wait_for);

my $t = FcgiPmTest->new;
my $root = $t->root;
my $hello = $t->app('hello');
my $docroot = $t->docroot;

# A file that exists but is not executable.
my $notexec = "$root/bin/notexec";
{ open my $fh, '>', $notexec or die; print {$fh} "#!/bin/sh\nexit 0\n"; close $fh; chmod 0644, $notexec }

my $good_app = <<"EOT";
<FcgiPmApp good>
    Command $hello --app=good
    Processes 1
</FcgiPmApp>
<Location /good>
    FcgiPmPass good
</Location>
EOT

# Each case: name, body, regex of the offending line (first match is the
# expected line), a regex the message should contain, extra conf options.
my @cases = (
    {
        name => 'missing-command',
        body => "$good_app<FcgiPmApp nocmd>\n    Processes 1\n</FcgiPmApp>\n",
        line => qr/^<FcgiPmApp nocmd>/,
        msg  => qr/Command/i,
    },
    {
        name => 'relative-command',
        body => "$good_app<FcgiPmApp rel>\n    Processes 1\n    Command bin/hello --app=rel\n</FcgiPmApp>\n",
        line => qr/^\s*Command bin\/hello/,
        msg  => qr/absolute|bin\/hello/i,
    },
    {
        name => 'nonexistent-command',
        body => "$good_app<FcgiPmApp nx>\n    Command $root/bin/does-not-exist\n</FcgiPmApp>\n",
        line => qr/^\s*Command .*does-not-exist/,
        msg  => qr/does-not-exist|exist|execut/i,
    },
    {
        name => 'nonexecutable-command',
        body => "$good_app<FcgiPmApp ne>\n    Processes 1\n    Command $notexec\n</FcgiPmApp>\n",
        line => qr/^\s*Command .*notexec/,
        msg  => qr/notexec|execut/i,
    },
    {
        name => 'unknown-subdirective',
        body => "$good_app<FcgiPmApp unk>\n    Command $hello\n    Processes 1\n    Bogus 1\n</FcgiPmApp>\n",
        line => qr/^\s*Bogus 1/,
        msg  => qr/Bogus/,
    },
    {
        name => 'duplicate-app',
        body => "$good_app<FcgiPmApp good>\n    Command $hello --app=dup\n</FcgiPmApp>\n",
        line => [qr/^<FcgiPmApp good>/, 2],
        msg  => qr/good/,
    },
    {
        name => 'processes-abc',
        body => "$good_app<FcgiPmApp num>\n    Command $hello\n    Processes abc\n</FcgiPmApp>\n",
        line => qr/^\s*Processes abc/,
        msg  => qr/abc|number|integer|Processes/i,
    },
    {
        name => 'processes-negative',
        body => "$good_app<FcgiPmApp num>\n    Command $hello\n    Processes -1\n</FcgiPmApp>\n",
        line => qr/^\s*Processes -1/,
        msg  => qr/Processes|range|-1/i,
    },
    {
        name => 'processes-100000',
        body => "$good_app<FcgiPmApp num>\n    Command $hello\n    Processes 100000\n</FcgiPmApp>\n",
        line => qr/^\s*Processes 100000/,
        msg  => qr/Processes|range|100000/i,
    },
    {
        name => 'shutdowntimeout-negative',
        body => "$good_app<FcgiPmApp num>\n    Command $hello\n    ShutdownTimeout -1\n</FcgiPmApp>\n",
        line => qr/^\s*ShutdownTimeout -1/,
        msg  => qr/ShutdownTimeout|range|-1/i,
    },
    {
        name => 'restartongraceful-bad-flag',
        body => "$good_app<FcgiPmApp flag>\n    Command $hello\n    RestartOnGraceful maybe\n</FcgiPmApp>\n",
        line => qr/^\s*RestartOnGraceful maybe/,
        msg  => qr/RestartOnGraceful|On|Off/i,
    },
    {
        name => 'bad-app-name',
        body => "$good_app<FcgiPmApp bad/name>\n    Command $hello\n</FcgiPmApp>\n",
        line => qr/^<FcgiPmApp bad\/name>/,
        msg  => qr/name/i,
    },
    {
        name => 'pass-undefined-app',
        body => "$good_app<Location /x>\n    FcgiPmPass nosuch\n</Location>\n",
        line => qr/^\s*FcgiPmPass nosuch/,
        msg  => qr/nosuch/,
    },
    {
        name => 'pass-without-proxy-fcgi',
        body => $good_app,
        opts => { proxy_fcgi => 0 },
        line => qr/^\s*FcgiPmPass good/,
        msg  => qr/proxy_fcgi|proxy/i,
    },
);

# Collect every line number reported for $base in $out, in either
# "base.conf:12" or "line 12 of /path/base.conf" form.
sub reported_lines {
    my ($out, $base) = @_;
    my $qb = quotemeta $base;
    my @l;
    push @l, $1 while $out =~ /$qb:(\d+)/g;
    push @l, $1 while $out =~ /line (\d+) of \S*$qb/g;
    return @l;
}

for my $c (@cases) {
    my $file = "$c->{name}.conf";
    my $path = $t->write_conf($c->{body}, file => $file, %{ $c->{opts} || {} });
    my ($re, $nth) = ref $c->{line} eq 'ARRAY' ? @{ $c->{line} } : ($c->{line}, 1);
    my $want = $t->conf_line_of($path, $re, $nth);
    die "test bug: no line matching $re in $path" unless $want;

    my ($rc, $out) = $t->configtest($path);
    subtest $c->{name} => sub {
        isnt($rc, 0, "configtest fails (exit $rc)");
        unlike($out, qr/Syntax OK/, 'no "Syntax OK"');
        like($out, qr/\Q$file\E/, "message names the file $file");
        my @lines = reported_lines($out, $file);
        ok((grep { $_ == $want } @lines),
           "message gives line $want (reported: " . (join(',', @lines) || 'none') . ')');
        like($out, $c->{msg}, "message describes the problem ($c->{msg})");
        diag("configtest output:\n$out") unless Test::More->builder->is_passing;
    };
    note("$c->{name}: $out");
}

# FcgiPmPass to an app defined later in the file: the app is defined, so the
# configuration is valid (directive order must not matter).
{
    my $body = "<Location /early>\n    FcgiPmPass later\n</Location>\n"
             . "<FcgiPmApp later>\n    Command $hello --app=later\n</FcgiPmApp>\n";
    my $path = $t->write_conf($body, file => 'forward-reference.conf');
    my ($rc, $out) = $t->configtest($path);
    is($rc, 0, 'FcgiPmPass before the app definition is accepted') or diag($out);
}

# A valid configuration using every v1 directive passes, and the
# configuration test starts no manager and no worker.
{
    mkdir "$root/wd"; chmod 0755, "$root/wd";
    mkdir "$docroot/dir"; chmod 0755, "$docroot/dir";
    my $tcp_port = FcgiPmTest::free_port();
    my $body = <<"EOT";
<FcgiPmApp full>
    Command $hello --app=full --flag
    Processes 2
    Env APP_ENV test
    Env WITH_SPACE "two words"
    PassEnv PATH
    User www-data
    Group www-data
    WorkingDirectory $root/wd
    RestartOnGraceful Off
    ShutdownTimeout 3
</FcgiPmApp>
<FcgiPmApp tcp>
    Command $hello --app=tcp
    Listen 127.0.0.1:$tcp_port
    RestartOnGraceful On
</FcgiPmApp>
<Location /full>
    FcgiPmPass full
</Location>
<LocationMatch "^/lm/[0-9]+">
    FcgiPmPass full
</LocationMatch>
<Directory "$docroot/dir">
    FcgiPmPass tcp
</Directory>
<Directory "$docroot">
    <Files "*.fcgi">
        FcgiPmPass full
    </Files>
</Directory>
EOT
    my $path = $t->write_conf($body, file => 'valid.conf');
    my ($rc, $out) = $t->configtest($path);
    is($rc, 0, 'valid configuration: configtest exits 0') or diag($out);
    like($out, qr/Syntax OK/, 'valid configuration: "Syntax OK"');

    # Nothing may be left running by -t: a manager or worker would show up
    # as a process whose command line contains our private root.
    my $found = wait_for(sub { my @p = $t->procs_matching(qr/\Q$root\E/); @p ? \@p : undef }, 2, 0.2);
    ok(!$found, 'configtest leaves no process running')
        or diag('left: ' . join(', ', map { "$_ " . (FcgiPmTest::proc_cmdline($_) // '') } @$found));
    ok(!-e $t->sockdir || !$t->sock_files, 'configtest creates no socket');
}

done_testing;
