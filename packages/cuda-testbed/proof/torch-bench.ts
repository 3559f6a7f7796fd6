/**
 * PyTorch's side of the GPU proof's throughput figures: the same three models, batch sizes and AdamW, timed the
 * same way (median of 20 steps after 5, the loss read back each step). Argument: the torch device ("cuda").
 * Prints one JSON line of milliseconds per step.
 */
export const TORCH_BENCH = `
import json, sys, time, torch
dev = sys.argv[1]
torch.manual_seed(1)

def median_step(model, x, y):
    opt = torch.optim.AdamW(model.parameters(), lr=1e-3)
    times = []
    for step in range(25):
        if dev == "cuda": torch.cuda.synchronize()
        start = time.perf_counter()
        opt.zero_grad()
        loss = torch.nn.functional.cross_entropy(model(x), y)
        loss.backward()
        opt.step()
        loss.item()
        if step >= 5: times.append((time.perf_counter() - start) * 1000)
    return sorted(times)[len(times) // 2]

class Block(torch.nn.Module):
    def __init__(s, vocab, d, heads, block):
        super().__init__()
        s.heads, s.d = heads, d
        s.embed = torch.nn.Embedding(vocab, d)
        s.ln1, s.ln2 = torch.nn.LayerNorm(d), torch.nn.LayerNorm(d)
        s.qkv = torch.nn.Linear(d, 3 * d)
        s.mlp = torch.nn.Sequential(torch.nn.Linear(d, 2 * d), torch.nn.GELU(), torch.nn.Linear(2 * d, d))
        s.head = torch.nn.Linear(d, vocab)
        s.register_buffer("causal", (1 - torch.tril(torch.ones(block, block))) * -1e9)
    def forward(s, tokens):
        b, t = tokens.shape
        x = s.embed(tokens)
        q, k, v = (z.reshape(b, t, s.heads, s.d // s.heads).transpose(1, 2) for z in s.qkv(s.ln1(x)).split(s.d, 2))
        scores = q @ k.transpose(-1, -2) / (s.d // s.heads) ** 0.5 + s.causal
        x = x + (scores.softmax(-1) @ v).transpose(1, 2).reshape(b, t, s.d)
        x = x + s.mlp(s.ln2(x))
        return s.head(x).reshape(b * t, -1)

mlp = torch.nn.Sequential(torch.nn.Linear(784, 512), torch.nn.ReLU(), torch.nn.Linear(512, 512), torch.nn.ReLU(),
                          torch.nn.Linear(512, 10)).to(dev)
cnn = torch.nn.Sequential(torch.nn.Conv2d(1, 16, 3), torch.nn.ReLU(), torch.nn.MaxPool2d(2), torch.nn.Conv2d(16, 32, 3),
                          torch.nn.ReLU(), torch.nn.MaxPool2d(2), torch.nn.Flatten(), torch.nn.Linear(800, 10)).to(dev)
block = Block(64, 128, 4, 64).to(dev)
labels = lambda n, c: torch.arange(n, device=dev) % c
tokens = (torch.arange(32 * 64, device=dev) * 7 % 64).reshape(32, 64)
print(json.dumps({
    "device": torch.cuda.get_device_name(0) if dev == "cuda" else "cpu",
    "torch": torch.__version__,
    "mlpMs": median_step(mlp, torch.randn(256, 784, device=dev), labels(256, 10)),
    "cnnMs": median_step(cnn, torch.randn(64, 1, 28, 28, device=dev), labels(64, 10)),
    "transformerMs": median_step(block, tokens, ((torch.arange(32 * 64, device=dev) * 7 + 1) % 64)),
}))
`;
