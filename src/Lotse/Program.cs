using Lotse.Commands;

return await LotseCli.RunAsync(args);
