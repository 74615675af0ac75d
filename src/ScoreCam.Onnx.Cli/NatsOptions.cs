using System.CommandLine;
using NATS.Client.Core;

namespace ScoreCam.Onnx.Cli;

/// <summary>The NATS server and NATS's own ways to authenticate (credentials file, user and password, token) and to use TLS, shared by worker and submit.</summary>
internal sealed class NatsOptions
{
    public Option<string> Url { get; } = new("--nats") { Description = "NATS server URL with JetStream, e.g. nats://host:4222 (tls:// for TLS; several comma-separated for a cluster).", Required = true };
    public Option<string?> Credentials { get; } = new("--nats-creds") { Description = "NATS credentials file (.creds: user JWT and NKey seed)." };
    public Option<string?> User { get; } = new("--nats-user") { Description = "NATS user name (with --nats-password)." };
    public Option<string?> Password { get; } = new("--nats-password") { Description = "NATS password." };
    public Option<string?> Token { get; } = new("--nats-token") { Description = "NATS authentication token." };
    public Option<string?> TlsCa { get; } = new("--nats-tls-ca") { Description = "CA certificate (PEM) the server's TLS certificate is checked against." };
    public Option<string?> TlsCert { get; } = new("--nats-tls-cert") { Description = "Client certificate (PEM) for TLS client authentication, with --nats-tls-key." };
    public Option<string?> TlsKey { get; } = new("--nats-tls-key") { Description = "Client certificate's private key (PEM)." };

    public void AddTo(Command command)
    {
        foreach (Option o in new Option[] { Url, Credentials, User, Password, Token, TlsCa, TlsCert, TlsKey }) command.Options.Add(o);
    }

    public NatsOpts Options(ParseResult r, string clientName)
    {
        if ((r.GetValue(User) is null) != (r.GetValue(Password) is null)) throw new UsageException("--nats-user and --nats-password go together; give both or neither.");
        if ((r.GetValue(TlsCert) is null) != (r.GetValue(TlsKey) is null)) throw new UsageException("--nats-tls-cert and --nats-tls-key go together; give both or neither.");
        foreach (Option<string?> file in new[] { Credentials, TlsCa, TlsCert, TlsKey })
            if (r.GetValue(file) is { } path && !File.Exists(path)) throw new UsageException($"{file.Name}: the file '{path}' does not exist.");
        return NatsOpts.Default with
        {
            Url = r.GetValue(Url)!,
            Name = clientName,
            AuthOpts = NatsAuthOpts.Default with
            {
                CredsFile = r.GetValue(Credentials),
                Username = r.GetValue(User),
                Password = r.GetValue(Password),
                Token = r.GetValue(Token),
            },
            TlsOpts = NatsTlsOpts.Default with { CaFile = r.GetValue(TlsCa), CertFile = r.GetValue(TlsCert), KeyFile = r.GetValue(TlsKey) },
        };
    }
}
