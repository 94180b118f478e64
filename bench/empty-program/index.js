// An empty Pulumi program, started exactly like bin/index.js (Pulumi.yaml's nodeargs, cwd bin/, the SDK's cmd/run):
// the floor that Node, cmd/run and @pulumi/pulumi's own start-up set. Plain JavaScript, as Pulumi runs it.
module.exports = async () => ({});
